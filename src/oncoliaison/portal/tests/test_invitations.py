"""Portal invitations: hashed single-use tokens that expire, e-mails without PHI, who may invite."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from oncoliaison.accounts.models import User
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.patients.models import Consent, ConsentKind, ConsentStatus, Patient, ProxyScope
from oncoliaison.patients.selectors import access_patient
from oncoliaison.portal import services
from oncoliaison.portal.models import InvitationKind, PortalInvitation
from oncoliaison.testing import Cast

GOOD_PASSWORD = "Blue-heron-lantern-42"


@pytest.fixture
def new_patient(cast: Cast) -> Patient:
    return Patient.objects.create(organization=cast.lead, given_name="Nina", family_name="Newcomer",
                                  birth_date=dt.date(1970, 1, 5), gender="female", synthetic=True,
                                  email="nina@example.org")


def _invite(cast: Cast, patient: Patient, email: str = "nina@example.org") -> services.IssuedInvitation:
    nav = cast.actor(cast.navigator)
    return services.invitation_create(actor=nav, patient=access_patient(nav, patient.pk), email=email,
                                      link_base="https://portal.example.org")


def test_token_is_stored_hashed_and_shown_once(cast: Cast, new_patient: Patient) -> None:
    issued = _invite(cast, new_patient)
    inv = PortalInvitation.objects.get()
    assert issued.token not in inv.token_hash
    assert inv.token_hash == PortalInvitation.hash(issued.token)
    assert issued.link == f"https://portal.example.org/portal/invite/{issued.token}/"
    assert inv.expires_at - inv.created_at == dt.timedelta(days=7)
    assert inv.created_by == cast.navigator


def test_invitation_email_has_no_phi(cast: Cast, new_patient: Patient, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issued = _invite(cast, new_patient)
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["nina@example.org"]
    text = msg.subject + msg.body
    for phi in ("Nina", "Newcomer", "1970", "Lead Cancer Program", "Grace"):
        assert phi not in text
    assert issued.link in msg.body


def test_accept_creates_a_linked_patient_account_once(cast: Cast, new_patient: Patient) -> None:
    issued = _invite(cast, new_patient)
    user = services.invitation_accept(token=issued.token, username="nina", password=GOOD_PASSWORD)
    new_patient.refresh_from_db()
    assert new_patient.user == user and user.kind == "patient" and user.check_password(GOOD_PASSWORD)
    inv = PortalInvitation.objects.get()
    assert inv.accepted_at is not None and inv.accepted_user == user
    with pytest.raises(NotFound):
        services.invitation_accept(token=issued.token, username="nina2", password=GOOD_PASSWORD)
    with pytest.raises(NotFound):
        services.invitation_for_token(issued.token)
    assert AuditEvent.objects.filter(category="portal-account", action="create", resource_type="User",
                                     patient_id=new_patient.pk).count() == 1


def test_expired_invitation_cannot_be_used(cast: Cast, new_patient: Patient) -> None:
    issued = _invite(cast, new_patient)
    PortalInvitation.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(NotFound):
        services.invitation_accept(token=issued.token, username="nina", password=GOOD_PASSWORD)
    assert not User.objects.filter(username="nina").exists()


def test_a_new_invitation_replaces_the_old_link(cast: Cast, new_patient: Patient) -> None:
    first = _invite(cast, new_patient)
    second = _invite(cast, new_patient)
    with pytest.raises(NotFound):
        services.invitation_for_token(first.token)
    assert services.invitation_for_token(second.token).pk != PortalInvitation.objects.get(revoked_at__isnull=False).pk


def test_unknown_or_garbage_token_is_not_found(db) -> None:
    for token in ("", "nope", "x" * 500):
        with pytest.raises(NotFound):
            services.invitation_for_token(token)


def test_weak_password_or_taken_name_is_refused_without_change(cast: Cast, new_patient: Patient) -> None:
    issued = _invite(cast, new_patient)
    with pytest.raises(ValidationFailed) as exc:
        services.invitation_accept(token=issued.token, username="nina", password="12345678")
    assert "password" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        services.invitation_accept(token=issued.token, username="grace", password=GOOD_PASSWORD)
    assert "username" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        services.invitation_accept(token=issued.token, username="has space", password=GOOD_PASSWORD)
    assert "username" in exc.value.field_errors
    assert PortalInvitation.objects.get().accepted_at is None
    new_patient.refresh_from_db()
    assert new_patient.user is None
    # Still usable after the mistakes.
    services.invitation_accept(token=issued.token, username="nina", password=GOOD_PASSWORD)


def test_only_staff_of_the_patients_organisation_invite_patients(cast: Cast, new_patient: Patient) -> None:
    for who in (cast.researcher, cast.outsider, cast.patient_user, cast.caregiver):
        with pytest.raises(Forbidden):
            services.invitation_create(actor=cast.actor(who), patient=new_patient, email="nina@example.org")
    assert not PortalInvitation.objects.exists()


def test_patient_with_an_account_is_not_invited_again(cast: Cast) -> None:
    nav = cast.actor(cast.navigator)
    with pytest.raises(Conflict):
        services.invitation_create(actor=nav, patient=cast.pat, email="pat@example.org")


def test_bad_email_is_refused(cast: Cast, new_patient: Patient) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _invite(cast, new_patient, email="not-an-email")
    assert "email" in exc.value.field_errors
    assert not PortalInvitation.objects.exists()


# --- caregivers --------------------------------------------------------------------------------------


def _grant(cast: Cast, scope: str = ProxyScope.VIEW, email: str = "sol@example.org") -> services.CaregiverGrant:
    pat = cast.actor(cast.patient_user)
    return services.caregiver_invite(actor=pat, patient=access_patient(pat, cast.pat.pk), given_name="Sol",
                                     family_name="Sibling", email=email, scope=scope)


def test_patient_grants_access_and_invites_a_caregiver(cast: Cast, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        grant = _grant(cast, ProxyScope.REPORT)
    consent = grant.consent
    assert consent.kind == ConsentKind.CAREGIVER_PROXY and consent.proxy_scope == ProxyScope.REPORT
    assert consent.status == ConsentStatus.ACTIVE and consent.recorded_by == cast.patient_user
    invitee = consent.grantee_user
    assert invitee is not None and not invitee.is_active and invitee.kind == "caregiver"
    assert grant.invitation is not None
    msg = mail.outbox[0]
    assert "Pat" not in msg.body + msg.subject and "Sol" not in msg.body
    user = services.invitation_accept(token=grant.invitation.token, username="sol", password=GOOD_PASSWORD)
    assert user.pk == invitee.pk and user.is_active and user.username == "sol"
    from oncoliaison.patients.selectors import patient_queryset_for

    assert list(patient_queryset_for(cast.actor(user))) == [cast.pat]
    assert AuditEvent.objects.filter(category="consent", action="create", patient_id=cast.pat.pk).exists()


def test_caregiver_invitation_dies_with_revocation(cast: Cast) -> None:
    grant = _grant(cast)
    services.caregiver_revoke(actor=cast.actor(cast.patient_user), consent=grant.consent)
    assert grant.invitation is not None
    with pytest.raises(NotFound):
        services.invitation_accept(token=grant.invitation.token, username="sol", password=GOOD_PASSWORD)
    assert not User.objects.get(pk=grant.consent.grantee_user_id).is_active


def test_existing_caregiver_is_linked_without_an_invitation(cast: Cast, django_capture_on_commit_callbacks) -> None:
    cast.caregiver.email = "cara@example.org"
    cast.caregiver.save()
    Consent.objects.filter(grantee_user=cast.caregiver).update(status="inactive")
    with django_capture_on_commit_callbacks(execute=True):
        grant = _grant(cast, ProxyScope.MESSAGE, email="CARA@example.org")
    assert grant.invitation is None and grant.consent.grantee_user == cast.caregiver
    assert mail.outbox[0].to == ["CARA@example.org"] and "Pat" not in mail.outbox[0].body


def test_granting_twice_to_the_same_person_is_a_conflict(cast: Cast) -> None:
    cast.caregiver.email = "cara@example.org"
    cast.caregiver.save()
    with pytest.raises(Conflict):
        _grant(cast, email="cara@example.org")


def test_only_the_patient_grants_proxy_access(cast: Cast) -> None:
    for who in (cast.navigator, cast.caregiver, cast.researcher):
        with pytest.raises(Forbidden):
            services.caregiver_invite(actor=cast.actor(who), patient=cast.pat, given_name="A", family_name="B",
                                      email="a@example.org", scope=ProxyScope.VIEW)
    with pytest.raises(Forbidden):
        services.invitation_create(actor=cast.actor(cast.navigator), patient=cast.pat, email="a@example.org",
                                   kind=InvitationKind.CAREGIVER)


def test_bad_grant_input_is_refused_without_change(cast: Cast) -> None:
    pat = cast.actor(cast.patient_user)
    before = (Consent.objects.count(), User.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        services.caregiver_invite(actor=pat, patient=cast.pat, given_name="", family_name="B", email="bad",
                                  scope="everything")
    assert set(exc.value.field_errors) == {"given_name", "email", "scope"}
    assert (Consent.objects.count(), User.objects.count()) == before


def test_resend_gives_a_new_link_and_kills_the_old(cast: Cast) -> None:
    grant = _grant(cast)
    assert grant.invitation is not None
    again = services.caregiver_invitation_resend(actor=cast.actor(cast.patient_user), consent=grant.consent)
    with pytest.raises(NotFound):
        services.invitation_for_token(grant.invitation.token)
    assert services.invitation_for_token(again.token).consent_id == grant.consent.pk


def test_patient_cannot_revoke_someone_elses_consent(cast: Cast) -> None:
    other = Consent.objects.create(patient=cast.other_patient, kind=ConsentKind.CAREGIVER_PROXY,
                                   grantee_user=cast.caregiver, proxy_scope="view", organization=cast.partner)
    with pytest.raises(NotFound):
        services.caregiver_revoke(actor=cast.actor(cast.patient_user), consent=other)
    other.refresh_from_db()
    assert other.status == "active"


def test_inviting_the_same_person_twice_is_a_conflict(cast: Cast) -> None:
    _grant(cast)
    with pytest.raises(Conflict):
        _grant(cast, ProxyScope.MESSAGE, email="SOL@example.org")
    assert Consent.objects.filter(grantee_user__email__iexact="sol@example.org").count() == 1


def test_caregiver_invitations_are_rate_limited(cast: Cast) -> None:
    from oncoliaison.portal.rules import CAREGIVER_INVITATIONS_PER_DAY

    grant = _grant(cast)
    pat = cast.actor(cast.patient_user)
    for _ in range(CAREGIVER_INVITATIONS_PER_DAY - 1):
        services.caregiver_invitation_resend(actor=pat, consent=grant.consent)
    with pytest.raises(ValidationFailed):
        services.caregiver_invitation_resend(actor=pat, consent=grant.consent)
    with pytest.raises(ValidationFailed):
        _grant(cast, email="another@example.org")
    assert PortalInvitation.objects.count() == CAREGIVER_INVITATIONS_PER_DAY
    assert not Consent.objects.filter(grantee_user__email="another@example.org").exists()


def test_user_name_taken_at_the_same_moment_is_a_clear_error(cast: Cast, new_patient: Patient, monkeypatch) -> None:
    from django.db import IntegrityError

    issued = _invite(cast, new_patient)

    def taken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("UNIQUE constraint failed: accounts_user.username")

    monkeypatch.setattr(services, "_accept", taken)
    with pytest.raises(ValidationFailed) as exc:
        services.invitation_accept(token=issued.token, username="nina", password=GOOD_PASSWORD)
    assert "username" in exc.value.field_errors
