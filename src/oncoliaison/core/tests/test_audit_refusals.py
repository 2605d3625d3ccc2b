"""Every disclosure (a count included) and every refused attempt is audited, and the patient's organisation
sees the attempts on its patients — without the requester learning that the patient exists."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.auditlog import selectors
from oncoliaison.core.actor import Actor
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.scopes import ScopeSet
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import Patient
from oncoliaison.testing import Cast

pytestmark = pytest.mark.django_db


def _token(org: Organization, scopes: str) -> dict[str, str]:
    issued = api_client_create(organization=org, scopes=scopes)
    return {"Authorization": f"Bearer {token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token}"}


def _client_actor(org: Organization) -> Actor:
    return Actor(kind="system", client_id="reviewer", client_organization_id=org.pk,
                 memberships=((org.pk, "system", org.kind),), scopes=ScopeSet.parse("system/AuditEvent.rs"))


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access_denied").order_by("seq"))


def test_a_refused_read_is_in_the_owners_audit_view_and_hides_the_patient_from_the_requester(cast: Cast) -> None:
    partner = _token(cast.partner, "system/Patient.rs system/AuditEvent.rs")
    hidden = Client().get(f"/fhir/Patient/{cast.pat.pk}", headers=partner)
    missing = Client().get("/fhir/Patient/987654", headers=partner)
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    # The owner (the lead program) sees the attempt on its patient, with who tried and from where.
    lead_view = list(selectors.audit_event_list_for(cast.actor(cast.admin), cast.lead.pk, patient_id=cast.pat.pk))
    attempt = [e for e in lead_view if e.action == "access_denied"]
    assert attempt and attempt[0].patient_shown == cast.pat.pk and attempt[0].organization_id == cast.partner.pk
    assert attempt[0].client_id.startswith("olc_") and attempt[0].channel == "fhir"
    # The requester's organisation sees its own refused rows, none naming a patient: no row tells it that
    # one of the ids it tried exists, and filtering by the patient finds nothing.
    partner_view = list(selectors.audit_event_list_for(_client_actor(cast.partner), cast.partner.pk))
    refused = [e for e in partner_view if e.action == "access_denied"]
    assert len(refused) >= 2 and {e.patient_shown for e in refused} == {None}
    assert not selectors.audit_event_list_for(_client_actor(cast.partner), cast.partner.pk,
                                              patient_id=cast.pat.pk).exists()
    # Through the doors too: the JSON API and the FHIR AuditEvent search of the requester.
    page = Client().get("/api/audit-events", headers=partner).json()
    assert {i["patient_id"] for i in page["items"] if i["action"] == "access_denied"} == {None}
    bundle = orjson.loads(Client().get("/fhir/AuditEvent", {"patient": f"Patient/{cast.pat.pk}"},
                                       headers=partner).content)
    assert bundle["total"] == 0
    lead = _token(cast.lead, "system/AuditEvent.rs")
    bundle = orjson.loads(Client().get("/fhir/AuditEvent", {"patient": f"Patient/{cast.pat.pk}"},
                                       headers=lead).content)
    assert any(e["resource"]["outcome"] == "4" for e in bundle["entry"])  # the partner's refused attempt


def test_a_401_is_audited_with_source_address_and_channel(cast: Cast) -> None:
    assert Client().get(f"/fhir/Patient/{cast.pat.pk}").status_code == 401
    assert Client().get(f"/api/patients/{cast.pat.pk}", REMOTE_ADDR="192.0.2.9").status_code == 401
    fhir, api = _refusals()
    assert (fhir.user_id, fhir.client_id, fhir.source_address, fhir.channel) == (None, "", "127.0.0.1", "fhir")
    assert fhir.outcome == "denied" and fhir.detail.startswith("401 GET")
    assert (api.source_address, api.channel, api.detail[:7]) == ("192.0.2.9", "api", "401 GET")
    # Both name the patient the URL pointed at, for the lead program's view.
    assert fhir.patient_id == api.patient_id == cast.pat.pk
    assert {e.pk for e in selectors.audit_event_list_for(cast.actor(cast.admin), cast.lead.pk)} >= {fhir.pk, api.pk}


def test_a_403_is_audited_in_every_door(cast: Cast) -> None:
    narrow = _token(cast.lead, "system/Consent.rs")
    assert Client().get(f"/fhir/Patient/{cast.pat.pk}", headers=narrow).status_code == 403
    assert Client().get(f"/api/patients/{cast.pat.pk}", headers=narrow).status_code == 403
    browser = Client()
    browser.force_login(cast.navigator)
    assert browser.get(reverse("auditlog:audit")).status_code == 403  # the audit report is for administrators
    fhir, api, web = _refusals()
    assert (fhir.channel, fhir.detail[:3], fhir.client_id[:4], fhir.patient_id) == ("fhir", "403", "olc_", cast.pat.pk)
    assert (api.channel, api.detail[:3], api.patient_id) == ("api", "403", cast.pat.pk)
    assert (web.channel, web.detail[:3], web.user_id) == ("web", "403", cast.navigator.pk)


def test_a_count_only_search_is_audited_per_patient_counted(cast: Cast) -> None:
    lead = _token(cast.lead, "system/Patient.rs")
    before = AuditEvent.objects.count()
    bundle = orjson.loads(Client().get("/fhir/Patient", {"_count": "0"}, headers=lead).content)
    assert bundle["total"] >= 1 and "entry" not in bundle
    rows = AuditEvent.objects.filter(seq__gt=before, action="search")
    assert set(rows.values_list("patient_id", flat=True)) == set(
        cast.lead.patients.values_list("pk", flat=True)) and cast.pat.pk in rows.values_list("patient_id", flat=True)
    assert all(r.detail.startswith("counted in total") for r in rows)


def test_a_count_over_many_patients_is_one_aggregate_row(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FHIR_MAX_COUNT = 1
    Patient.objects.create(organization=cast.lead, given_name="Extra", family_name="Patient", given_name_search="extra",
                           family_name_search="patient", birth_date=dt.date(1950, 1, 1), gender="female", synthetic=True)
    lead = _token(cast.lead, "system/Patient.rs")
    count = cast.lead.patients.count()
    before = AuditEvent.objects.count()
    Client().get("/fhir/Patient", {"_count": "0"}, headers=lead)
    (row,) = AuditEvent.objects.filter(seq__gt=before, action="search")
    assert row.patient_id is None and row.detail == f"total {count} counted over more than 1 patients"


def test_a_not_modified_read_is_audited(cast: Cast) -> None:
    lead = _token(cast.lead, "system/Patient.rs")
    first = Client().get(f"/fhir/Patient/{cast.pat.pk}", headers=lead)
    before = AuditEvent.objects.count()
    again = Client().get(f"/fhir/Patient/{cast.pat.pk}", headers={**lead, "If-None-Match": first["ETag"]})
    assert again.status_code == 304
    (row,) = AuditEvent.objects.filter(seq__gt=before)
    assert (row.action, row.patient_id, row.detail) == ("read", cast.pat.pk, "not modified (304)")


def test_a_refused_patient_read_is_one_audit_row_through_every_door(cast: Cast) -> None:
    """The selector that refuses writes the denied row; no door writes a second one for the same attempt."""
    other = cast.other_patient.pk
    headers = _token(cast.lead, "system/*.rs")
    page = Client()
    page.force_login(cast.navigator)
    for door, call in (("fhir", lambda: Client(headers=headers).get(f"/fhir/Patient/{other}")),
                       ("api", lambda: Client(headers=headers).get(f"/api/patients/{other}")),
                       ("web", lambda: page.get(f"/patients/{other}/"))):
        before = len(_refusals())
        assert call().status_code == 404
        rows = _refusals()[before:]
        assert [(r.channel, r.resource_type, r.patient_id) for r in rows] == [(door, "Patient", other)], door
