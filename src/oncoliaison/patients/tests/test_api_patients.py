"""JSON API: patient search, read, registration and update (/api/patients)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.patients.models import Consent, ConsentKind, Patient, PatientIdentifier
from oncoliaison.testing import Cast

NEW_PATIENT = {
    "given_name": "Nora",
    "family_name": "Newcomer",
    "birth_date": "1970-05-17",
    "gender": "female",
    "phone": "555-0142",
    "preferred_language": "es",
    "interpreter_needed": True,
    "identifiers": [{"system": "urn:oid:2.16.840.1.113883.3.999.1", "value": "L-1002", "type_code": "MR",
                     "organization": "lead"}],
}


def _ids(response: object) -> list[int]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return [p["id"] for p in response.json()["items"]]  # type: ignore[attr-defined]


# --- search -----------------------------------------------------------------------------------------


def test_navigator_lists_the_lead_programs_patients_with_identifiers(cast: Cast) -> None:
    response = as_user(cast.navigator).get("/api/patients")
    body = response.json()
    assert body["count"] == 1 and body["page"] == 1 and body["pages"] == 1
    (item,) = body["items"]
    assert item["id"] == cast.pat.pk and item["organization"] == "lead"
    assert item["identifiers"] == [{"system": "urn:oid:2.16.840.1.113883.3.999.1", "value": "L-1001",
                                    "type_code": "MR", "organization": "lead"}]
    assert item["version"] == 1


def test_search_by_name_birth_date_and_identifier(cast: Cast) -> None:
    client = as_user(cast.navigator)
    def search(**terms: str) -> object:
        return client.post("/api/patients/search", terms, content_type="application/json")

    assert _ids(search(q="PAT pati")) == [cast.pat.pk]
    assert _ids(search(q="nobody")) == []
    assert _ids(search(birth_date="1961-04-02")) == [cast.pat.pk]
    assert _ids(search(birth_date="1961-04-03")) == []
    assert _ids(client.post("/api/patients/search", {"identifier": "L-1001"}, content_type="application/json")) == [
        cast.pat.pk
    ]


def test_search_hides_other_organisations(cast: Cast) -> None:
    # The partner's patient is not found by the lead's navigator, even by exact identifier…
    client = as_user(cast.navigator)
    assert _ids(client.post("/api/patients/search", {"identifier": "P-2001"}, content_type="application/json")) == []
    # …and the partner's navigator does not find the lead's patient.
    outsider = as_user(cast.outsider)
    assert _ids(outsider.get("/api/patients")) == [cast.other_patient.pk]
    assert _ids(outsider.post("/api/patients/search", {"identifier": "L-1001"}, content_type="application/json")) == []


def test_a_data_sharing_consent_shows_the_patient_to_the_grantee(cast: Cast) -> None:
    Consent.objects.create(patient=cast.pat, kind=ConsentKind.DATA_SHARING, grantee_organization=cast.partner,
                           organization=cast.lead)
    assert cast.pat.pk in _ids(as_user(cast.outsider).get("/api/patients"))


def test_search_requires_a_care_role(cast: Cast) -> None:
    assert_error(as_user(cast.researcher).get("/api/patients"), 403, "forbidden")
    assert_error(as_user(cast.researcher).get(f"/api/patients/{cast.pat.pk}"), 404, "not-found")


def test_patient_sees_only_themselves_and_caregiver_only_the_granting_patient(cast: Cast) -> None:
    assert _ids(as_user(cast.patient_user).get("/api/patients")) == [cast.pat.pk]
    assert _ids(as_user(cast.caregiver).get("/api/patients")) == [cast.pat.pk]
    assert as_user(cast.caregiver).get(f"/api/patients/{cast.pat.pk}").status_code == 200
    assert_error(as_user(cast.caregiver).get(f"/api/patients/{cast.other_patient.pk}"), 404, "not-found")
    assert_error(as_user(cast.patient_user).get(f"/api/patients/{cast.other_patient.pk}"), 404, "not-found")


def test_caregiver_loses_access_when_the_proxy_consent_is_revoked(cast: Cast) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(status="inactive")
    assert _ids(as_user(cast.caregiver).get("/api/patients")) == []
    assert_error(as_user(cast.caregiver).get(f"/api/patients/{cast.pat.pk}"), 404, "not-found")


def test_every_listed_patient_is_audited(cast: Cast) -> None:
    before = AuditEvent.objects.count()
    as_user(cast.navigator).get("/api/patients")
    rows = list(AuditEvent.objects.order_by("seq")[before:])
    assert [(r.action, r.patient_id, r.channel, r.username) for r in rows] == [
        (AuditAction.SEARCH, cast.pat.pk, "api", "grace")
    ]


def test_pagination(cast: Cast) -> None:
    for i in range(7):
        Patient.objects.create(organization=cast.lead, given_name=f"Ann{i}", family_name="Zed",
                               birth_date=dt.date(1980, 1, 1 + i), gender="female", synthetic=True)
    client = as_user(cast.navigator)
    first = client.get("/api/patients", {"page_size": 3}).json()
    assert first["count"] == 8 and first["pages"] == 3 and len(first["items"]) == 3
    last = client.get("/api/patients", {"page_size": 3, "page": 3}).json()
    assert len(last["items"]) == 2
    beyond = client.get("/api/patients", {"page_size": 3, "page": 9}).json()
    assert beyond["items"] == []
    assert_error(client.get("/api/patients", {"page_size": 1000}), 422, "processing")


def test_patient_list_query_budget_does_not_grow_with_the_page(cast: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    """Session + user + memberships + emergency access in force, count, page, identifiers, audit chain (lock, insert, update, savepoints)
    and the session's sliding expiry: a fixed number whatever the page size."""
    for i in range(40):
        p = Patient.objects.create(organization=cast.lead, given_name=f"Bea{i}", family_name="Many",
                                   birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i), gender="female")
        PatientIdentifier.objects.create(patient=p, organization=cast.lead, system=cast.lead.mrn_system,
                                         value=f"L-9{i:03}", type_code="MR")
    client = as_user(cast.navigator)
    client.get("/api/patients", {"page_size": 1})  # warm the session and the audit chain
    with django_assert_max_num_queries(15):
        small = client.get("/api/patients", {"page_size": 1})
    with django_assert_max_num_queries(15):
        response = client.get("/api/patients", {"page_size": 41})
    assert len(small.json()["items"]) == 1
    assert len(response.json()["items"]) == 41
    assert all(item["identifiers"] for item in response.json()["items"])


# --- read -----------------------------------------------------------------------------------------------


def test_get_patient_is_audited_and_carries_an_etag(cast: Cast) -> None:
    before = AuditEvent.objects.count()
    response = as_user(cast.oncologist).get(f"/api/patients/{cast.pat.pk}")
    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
    assert response.json()["given_name"] == "Pat"
    (row,) = AuditEvent.objects.order_by("seq")[before:]
    assert (row.action, row.patient_id, row.channel) == (AuditAction.READ, cast.pat.pk, "api")


def test_get_hides_other_organisations_with_an_identical_404(cast: Cast) -> None:
    client = as_user(cast.outsider)
    hidden = client.get(f"/api/patients/{cast.pat.pk}")
    missing = client.get("/api/patients/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    # The refusal is recorded without disclosing anything.
    row = AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).order_by("-seq").first()
    assert row is not None and row.patient_id is None and row.outcome == "denied"


# --- tokens -----------------------------------------------------------------------------------------------


def test_token_with_patient_scopes_sees_its_organisations_patients(cast: Cast) -> None:
    headers = bearer(cast.lead, "system/Patient.rs")
    assert _ids(Client().get("/api/patients", **headers)) == [cast.pat.pk]
    assert Client().get(f"/api/patients/{cast.pat.pk}", **headers).status_code == 200
    hidden = Client().get(f"/api/patients/{cast.other_patient.pk}", **headers)
    assert_error(hidden, 404, "not-found")
    row = AuditEvent.objects.filter(action=AuditAction.SEARCH).order_by("-seq").first()
    assert row is not None and row.client_id.startswith("olc_") and row.channel == "api"


def test_token_without_the_scope_is_403(cast: Cast) -> None:
    headers = bearer(cast.lead, "system/Organization.rs")
    assert_error(Client().get("/api/patients", **headers), 403, "forbidden")
    assert_error(Client().get(f"/api/patients/{cast.pat.pk}", **headers), 403, "forbidden")
    read_only = bearer(cast.lead, "system/Patient.r")
    assert_error(Client().get("/api/patients", **read_only), 403, "forbidden")  # search needs "s"
    count = Patient.objects.count()
    assert_error(Client().post("/api/patients", NEW_PATIENT, content_type="application/json", **read_only),
                 403, "forbidden")
    assert Patient.objects.count() == count


# --- create ----------------------------------------------------------------------------------------------


def test_navigator_registers_a_patient(cast: Cast) -> None:
    response = as_user(cast.navigator).post("/api/patients", NEW_PATIENT, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"] == "lead" and body["version"] == 1 and body["synthetic"] is False
    assert body["identifiers"][0]["value"] == "L-1002"
    assert response["ETag"] == 'W/"1"'
    patient = Patient.objects.get(pk=body["id"])
    assert patient.preferred_language == "es" and patient.interpreter_needed
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, patient_id=patient.pk, channel="api").count() == 1


def test_token_with_create_scope_registers_a_patient(cast: Cast) -> None:
    headers = bearer(cast.lead, "system/Patient.crs")
    response = Client().post("/api/patients", NEW_PATIENT, content_type="application/json", **headers)
    assert response.status_code == 201, response.content


def test_register_requires_a_care_role_at_the_organisation(cast: Cast) -> None:
    count = Patient.objects.count()
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        response = as_user(user).post("/api/patients", NEW_PATIENT, content_type="application/json")
        assert_error(response, 403, "forbidden")
    response = as_user(cast.outsider).post("/api/patients", {**NEW_PATIENT, "organization": "lead"},
                                           content_type="application/json")
    assert_error(response, 403, "forbidden")
    assert Patient.objects.count() == count


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"given_name": "  "}, "given_name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"gender": "robot"}, "gender"),
        ({"email": "not-an-email"}, "email"),
        ({"preferred_language": "english!"}, "preferred_language"),
        ({"organization": "no-such-org"}, "organization"),
        ({"identifiers": [{"system": "", "value": "x"}]}, "identifiers"),
    ],
)
def test_bad_input_is_422_and_nothing_changes(cast: Cast, change: dict[str, object], field: str) -> None:
    counts = (Patient.objects.count(), PatientIdentifier.objects.count(), AuditEvent.objects.count())
    response = as_user(cast.navigator).post("/api/patients", {**NEW_PATIENT, **change},
                                            content_type="application/json")
    body = assert_error(response, 422, "processing")
    assert any(name.split(".")[0] == field for name in body["fields"]), body  # type: ignore[union-attr]
    assert (Patient.objects.count(), PatientIdentifier.objects.count(), AuditEvent.objects.count()) == counts


def test_duplicate_identifier_is_409_and_nothing_changes(cast: Cast) -> None:
    count = Patient.objects.count()
    dup = {**NEW_PATIENT, "identifiers": [{"system": cast.lead.mrn_system, "value": "L-1001", "type_code": "MR"}]}
    assert_error(as_user(cast.navigator).post("/api/patients", dup, content_type="application/json"), 409, "conflict")
    assert Patient.objects.count() == count


# --- update ----------------------------------------------------------------------------------------------


def test_update_with_if_match_changes_only_the_fields_sent(cast: Cast) -> None:
    client = as_user(cast.navigator)
    response = client.patch(f"/api/patients/{cast.pat.pk}", {"phone": "555-0199"},
                            content_type="application/json", HTTP_IF_MATCH='W/"1"')
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "555-0199" and body["given_name"] == "Pat" and body["version"] == 2
    assert body["identifiers"][0]["value"] == "L-1001"  # identifiers not sent: unchanged
    assert response["ETag"] == 'W/"2"'
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, patient_id=cast.pat.pk, channel="api").count() == 1


def test_update_replaces_identifiers_when_sent(cast: Cast) -> None:
    client = as_user(cast.navigator)
    idents = [{"system": cast.lead.mrn_system, "value": "L-1001", "type_code": "MR", "organization": "lead"},
              {"system": "urn:example:insurer", "value": "INS-7", "type_code": "MB"}]
    response = client.patch(f"/api/patients/{cast.pat.pk}", {"identifiers": idents, "version": 1},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert [i["value"] for i in response.json()["identifiers"]] == ["L-1001", "INS-7"]


def test_stale_version_is_412_and_nothing_changes(cast: Cast) -> None:
    client = as_user(cast.navigator)
    assert client.patch(f"/api/patients/{cast.pat.pk}", {"phone": "1", "version": 1},
                        content_type="application/json").status_code == 200
    response = client.patch(f"/api/patients/{cast.pat.pk}", {"phone": "2"}, content_type="application/json",
                            HTTP_IF_MATCH='W/"1"')
    assert_error(response, 412, "conflict")
    cast.pat.refresh_from_db()
    assert (cast.pat.phone, cast.pat.version) == ("1", 2)


def test_update_without_a_version_is_refused(cast: Cast) -> None:
    response = as_user(cast.navigator).patch(f"/api/patients/{cast.pat.pk}", {"phone": "1"},
                                             content_type="application/json")
    body = assert_error(response, 428, "precondition-required")
    assert "version" in body["fields"]  # type: ignore[operator]


def test_update_rejects_explicit_nulls_and_bad_values(cast: Cast) -> None:
    client = as_user(cast.navigator)
    response = client.patch(f"/api/patients/{cast.pat.pk}", {"family_name": None, "version": 1},
                            content_type="application/json")
    assert_error(response, 422, "processing")
    response = client.patch(f"/api/patients/{cast.pat.pk}", {"family_name": " ", "version": 1},
                            content_type="application/json")
    assert_error(response, 422, "processing")
    cast.pat.refresh_from_db()
    assert (cast.pat.family_name, cast.pat.version) == ("Patient", 1)


def test_update_hides_other_organisations_and_requires_a_care_role(cast: Cast) -> None:
    hidden = as_user(cast.outsider).patch(f"/api/patients/{cast.pat.pk}", {"phone": "1", "version": 1},
                                          content_type="application/json")
    missing = as_user(cast.outsider).patch("/api/patients/999999", {"phone": "1", "version": 1},
                                           content_type="application/json")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    # The patient may read but not change their own registration details, nor may the caregiver.
    for user in (cast.patient_user, cast.caregiver):
        response = as_user(user).patch(f"/api/patients/{cast.pat.pk}", {"phone": "1", "version": 1},
                                       content_type="application/json")
        assert_error(response, 403, "forbidden")
    headers = bearer(cast.lead, "system/Patient.rs")
    response = Client().patch(f"/api/patients/{cast.pat.pk}", {"phone": "1", "version": 1},
                              content_type="application/json", **headers)
    assert_error(response, 403, "forbidden")
    cast.pat.refresh_from_db()
    assert cast.pat.version == 1
