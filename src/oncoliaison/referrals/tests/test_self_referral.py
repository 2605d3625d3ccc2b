"""The public self-referral: strict validation, honeypot, rate limit per address, identical answers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from oncoliaison.core.models import AuditEvent
from oncoliaison.referrals.models import Referral, ReferralKind, SelfReferralAttempt
from oncoliaison.referrals.selfreferral import SelfReferralData, SelfReferralOutcome, self_referral_submit

pytestmark = pytest.mark.django_db

GOOD = SelfReferralData(given_name="Ana María", family_name="O'Neil-Núñez", birth_date=dt.date(1968, 7, 14),
                        concern="I was told I have a lump and need help finding a specialist.",
                        referral_source="social_media", phone="+1 (555) 010-0199", consent_to_contact=True)


def test_self_referral_lands_as_a_pending_referral(cast):
    assert self_referral_submit(data=GOOD, source_address="203.0.113.5") is SelfReferralOutcome.RECEIVED
    r = Referral.objects.get()
    assert r.kind == ReferralKind.SELF and r.status == "received" and r.receiving_organization == cast.lead
    assert (r.family_name, r.referral_source, r.patient) == ("O'Neil-Núñez", "social_media", None)
    assert r.history.get().by_label == "Public self-referral page"
    ev = AuditEvent.objects.get(resource_type="ServiceRequest")
    assert (ev.action, ev.outcome, ev.source_address, ev.patient_id) == ("create", "success", "203.0.113.5", None)


@pytest.mark.parametrize(("change", "field"), [
    ({"given_name": ""}, "given_name"),
    ({"family_name": "<script>"}, "family_name"),
    ({"family_name": "Smith http://spam.example"}, "family_name"),
    ({"given_name": "R2D2"}, "given_name"),
    ({"birth_date": None}, "birth_date"),
    ({"birth_date": dt.date(2999, 1, 1)}, "birth_date"),
    ({"birth_date": dt.date(1850, 1, 1)}, "birth_date"),
    ({"phone": "", "email": ""}, "phone"),
    ({"phone": "call me maybe"}, "phone"),
    ({"email": "nobody@"}, "email"),
    ({"concern": "help"}, "concern"),
    ({"concern": "x" * 2001}, "concern"),
    ({"referral_source": "tv"}, "referral_source"),
    ({"preferred_language": "xx"}, "preferred_language"),
    ({"consent_to_contact": False}, "consent_to_contact"),
])
def test_strict_validation_reports_the_field_and_stores_nothing(cast, change, field):
    from oncoliaison.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        self_referral_submit(data=dataclasses.replace(GOOD, **change), source_address="203.0.113.5")
    assert field in exc.value.field_errors
    assert not Referral.objects.exists() and not SelfReferralAttempt.objects.exists()


def test_honeypot_submission_is_discarded_quietly(cast):
    outcome = self_referral_submit(data=GOOD, source_address="203.0.113.6", honeypot="http://spam.example")
    assert outcome is SelfReferralOutcome.DISCARDED and not Referral.objects.exists()
    assert AuditEvent.objects.get().outcome == "denied"


def test_rate_limit_per_address_per_hour(cast, settings, monkeypatch):
    from oncoliaison.core import clock

    settings.SELF_REFERRAL_LIMIT_PER_HOUR = 5
    outcomes = [self_referral_submit(data=GOOD, source_address="198.51.100.7") for _ in range(7)]
    assert outcomes == [SelfReferralOutcome.RECEIVED] * 5 + [SelfReferralOutcome.THROTTLED] * 2
    assert Referral.objects.count() == 5
    # Another address is not affected.
    assert self_referral_submit(data=GOOD, source_address="198.51.100.8") is SelfReferralOutcome.RECEIVED
    # The address is not stored in clear.
    assert not SelfReferralAttempt.objects.filter(address_hash__contains="198.51").exists()
    # An hour later the address may submit again, and old attempts are pruned.
    later = clock.now() + dt.timedelta(hours=1, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert self_referral_submit(data=GOOD, source_address="198.51.100.7") is SelfReferralOutcome.RECEIVED
    assert SelfReferralAttempt.objects.count() == 1


def test_a_known_person_gets_no_different_treatment(cast):
    pat = cast.pat
    known = dataclasses.replace(GOOD, given_name=pat.given_name, family_name=pat.family_name,
                                birth_date=pat.birth_date)
    assert self_referral_submit(data=known, source_address="192.0.2.1") is SelfReferralOutcome.RECEIVED
    r = Referral.objects.get()
    assert r.patient is None  # never linked automatically; the navigator reviews duplicates


def test_no_program_configured_is_an_error_not_a_silent_loss(db):
    from oncoliaison.core.errors import DomainError

    with pytest.raises(DomainError):
        self_referral_submit(data=GOOD, source_address="192.0.2.1")


_FORM = {"given_name": "Ana", "family_name": "Lopez", "birth_date": "1968-07-14", "phone": "555 010 0199",
         "email": "", "preferred_language": "en", "concern": "I was told I have a lump and need help.",
         "cancer_type_text": "", "referral_source": "social_media", "consent_to_contact": "on", "website": ""}


def test_a_throttled_person_is_told_plainly_with_the_programs_number_and_keeps_what_they_typed(cast, settings,
                                                                                                 client):
    settings.SELF_REFERRAL_LIMIT_PER_HOUR = 1
    cast.lead.phone = "555-0142"
    cast.lead.save()
    kiosk = {"REMOTE_ADDR": "192.0.2.50"}
    assert client.post("/refer/", _FORM, **kiosk).status_code == 302
    response = client.post("/refer/", _FORM, **kiosk)
    page = response.content.decode()
    assert response.status_code == 429
    assert "We could not accept your form" in page and "555-0142" in page and "not</strong> sent" in page
    assert 'value="Lopez"' in page  # what was typed is still there
    assert Referral.objects.count() == 1


def test_a_token_cannot_switch_off_self_referral_by_adding_a_lead_program(cast, client):
    """A second lead program made by a token (or an organisation's administrator) would make the receiving
    program ambiguous; such kinds are created only by a platform administrator."""
    from django.test import Client

    from oncoliaison.core.tests.test_api_auth import as_user, bearer
    from oncoliaison.fhir.codes import CS_ORGANIZATION_KIND
    from oncoliaison.organisations.models import Organization, OrganizationKind

    rogue = {"name": "Second Lead Program", "kind": "lead_program"}
    headers = bearer(cast.lead, "system/Organization.crus")
    assert Client().post("/api/organisations", rogue, content_type="application/json", **headers).status_code == 403
    assert as_user(cast.admin).post("/api/organisations", rogue, content_type="application/json").status_code == 403
    fhir_org = {"resourceType": "Organization", "name": "Second Lead Program", "active": True,
                "type": [{"coding": [{"system": CS_ORGANIZATION_KIND,
                                      "code": "lead_program"}]}]}
    Client().post("/fhir/Organization", fhir_org, content_type="application/fhir+json", **headers)
    # Nor may a partner be turned into one, or the lead program switched off, by its administrator.
    patch = as_user(cast.admin).patch("/api/organisations/lead", {"active": False, "version": 1},
                                   content_type="application/json")
    assert patch.status_code == 403
    assert Organization.objects.filter(kind=OrganizationKind.LEAD_PROGRAM, active=True).count() == 1
    assert client.post("/refer/", _FORM, REMOTE_ADDR="192.0.2.60").status_code == 302
    assert Referral.objects.get().receiving_organization == cast.lead


def test_a_platform_administrator_adds_a_lead_program_and_production_routes_by_setting_only(cast, settings):
    from oncoliaison.accounts.models import User
    from oncoliaison.accounts.services import actor_for_user
    from oncoliaison.core.errors import DomainError
    from oncoliaison.organisations.services import OrganizationData, organization_create

    operator = User.objects.create_user(username="operator", password="x", is_superuser=True)
    second = organization_create(actor=actor_for_user(operator),
                                 data=OrganizationData(name="Second Program", kind="lead_program"))
    settings.SELF_REFERRAL_ORGANIZATION = second.slug
    self_referral_submit(data=GOOD, source_address="192.0.2.70")
    assert Referral.objects.get().receiving_organization == second
    settings.SELF_REFERRAL_ORGANIZATION, settings.PRODUCTION = "", True
    with pytest.raises(DomainError):
        self_referral_submit(data=GOOD, source_address="192.0.2.71")
