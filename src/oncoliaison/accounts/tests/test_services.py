"""Actors, API clients and tokens, the TOTP second factor, practitioners."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.utils import timezone

from oncoliaison.accounts import services
from oncoliaison.accounts.models import ApiClient, ApiToken, MfaDevice
from oncoliaison.core.errors import Forbidden, Unauthenticated, ValidationFailed
from oncoliaison.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_actor_for_staff_lists_active_memberships(cast):
    actor = cast.actor(cast.navigator)
    assert actor.kind == "staff" and actor.roles == {"navigator"}
    assert actor.clinical_organization_ids == {cast.lead.pk}
    assert cast.actor(cast.researcher).clinical_organization_ids == frozenset()
    assert cast.actor(cast.patient_user).own_patient_id == cast.pat.pk


def test_client_secret_is_stored_hashed_and_token_narrows_scope(cast):
    issued = services.api_client_create(organization=cast.lead, scopes="system/Patient.rs system/Consent.r")
    stored = ApiClient.objects.get(client_id=issued.client_id)
    assert issued.client_secret not in stored.secret_hash and stored.secret_hash.startswith(("argon2", "md5"))
    token = services.token_issue(client_id=issued.client_id, client_secret=issued.client_secret,
                                 requested_scope="system/Patient.r")
    assert token.scope == "system/Patient.r"
    assert not ApiToken.objects.filter(token_hash=token.access_token).exists()  # only the hash is kept
    actor = services.actor_for_bearer(token.access_token)
    assert actor.is_system and actor.client_organization_id == cast.lead.pk
    assert actor.allows("Patient", "r") and not actor.allows("Patient", "s") and not actor.allows("Consent", "r")


def test_bad_secret_unknown_client_and_ungranted_scope_are_refused_and_audited(cast):
    issued = services.api_client_create(organization=cast.lead, scopes="system/Patient.rs")
    with pytest.raises(services.OAuthError) as bad:
        services.token_issue(client_id=issued.client_id, client_secret="wrong")
    with pytest.raises(services.OAuthError) as unknown:
        services.token_issue(client_id="olc_nobody", client_secret="wrong")
    assert (bad.value.error, bad.value.status) == (unknown.value.error, unknown.value.status) == ("invalid_client", 401)
    with pytest.raises(services.OAuthError) as scope:
        services.token_issue(client_id=issued.client_id, client_secret=issued.client_secret,
                             requested_scope="system/Consent.r")
    assert scope.value.error == "invalid_scope"
    assert AuditEvent.objects.filter(action="login_failed").count() == 2


def test_expired_or_unknown_tokens_do_not_authenticate(cast):
    issued = services.api_client_create(organization=cast.lead, scopes="system/Patient.rs")
    token = services.token_issue(client_id=issued.client_id, client_secret=issued.client_secret)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        services.actor_for_bearer(token.access_token)
    with pytest.raises(Unauthenticated):
        services.actor_for_bearer("made-up")


def test_invalid_scopes_refuse_client_creation(cast):
    with pytest.raises(ValidationFailed):
        services.api_client_create(organization=cast.lead, scopes="patient/*.read")


def test_totp_enrolment_encrypts_the_seed_and_refuses_replay(cast):
    secret, uri = services.mfa_begin(cast.navigator)
    device = MfaDevice.objects.get(user=cast.navigator)
    assert secret not in device.secret_encrypted and uri.startswith("otpauth://totp/")
    assert not services.mfa_confirm(cast.navigator, "000000") or pyotp.TOTP(secret).now() == "000000"
    code = pyotp.TOTP(secret).now()
    assert services.mfa_confirm(cast.navigator, code)
    assert services.mfa_enabled(cast.navigator)
    assert not services.mfa_check(cast.navigator, code)  # the same code cannot be used twice
    assert not services.mfa_check(cast.navigator, "12345")


def test_practitioner_registration_needs_an_admin_and_validates_npi(cast):
    admin = cast.actor(cast.admin)
    user = services.practitioner_create(actor=admin, data=services.PractitionerData("Ines", "Moreau", npi="1234567893"))
    assert user.registered_by == cast.lead and not user.has_usable_password()
    with pytest.raises(ValidationFailed):
        services.practitioner_create(actor=admin, data=services.PractitionerData("A", "B", npi="12"))
    with pytest.raises(Forbidden):
        services.practitioner_create(actor=cast.actor(cast.navigator), data=services.PractitionerData("A", "B"))
    visible = set(services.practitioner_queryset_for(cast.actor(cast.navigator)).values_list("pk", flat=True))
    assert user.pk in visible and cast.outsider.pk not in visible
