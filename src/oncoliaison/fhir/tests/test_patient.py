"""Patient over FHIR: read, search, create, update, and everything that must be refused."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient as FhirPatient

from oncoliaison.core.models import AuditEvent
from oncoliaison.patients import services
from oncoliaison.patients.models import Consent, ConsentKind, Patient

from .conftest import Fhir, body, patient_resource

pytestmark = pytest.mark.django_db


# --- read -----------------------------------------------------------------------------------------


def test_read_maps_every_field_and_validates(cast, lead_api):
    cast.pat.phone, cast.pat.city, cast.pat.interpreter_needed = "555-0100", "Riverside", True
    cast.pat.save()
    response = lead_api.get(f"/Patient/{cast.pat.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["ETag"] == 'W/"1"'
    assert response["Last-Modified"]
    assert response["Cache-Control"] == "no-store"
    resource = body(response)
    FhirPatient.model_validate(resource)
    assert resource["id"] == str(cast.pat.pk)
    assert resource["meta"]["versionId"] == "1"
    assert resource["meta"]["lastUpdated"].startswith(str(cast.pat.updated_at.year))
    assert resource["meta"]["tag"][0]["code"] == "HTEST"  # synthetic record
    assert resource["identifier"] == [{
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR",
                             "display": "Medical record number"}]},
        "system": cast.lead.mrn_system, "value": "L-1001",
        "assigner": {"reference": f"Organization/{cast.lead.pk}"},
    }]
    assert resource["name"] == [{"use": "official", "family": "Patient", "given": ["Pat"]}]
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1961-04-02"
    assert resource["telecom"] == [{"system": "phone", "value": "555-0100", "use": "home"}]
    assert resource["address"] == [{"city": "Riverside"}]
    assert resource["communication"][0]["preferred"] is True
    assert resource["managingOrganization"] == {"reference": f"Organization/{cast.lead.pk}"}
    assert resource["active"] is True and resource["deceasedBoolean"] is False
    assert resource["extension"][0]["valueBoolean"] is True


def test_read_is_audited(cast, lead_api):
    before = AuditEvent.objects.count()
    lead_api.get(f"/Patient/{cast.pat.pk}")
    rows = list(AuditEvent.objects.order_by("seq")[before:])
    reads = [r for r in rows if r.action == "read"]
    assert len(reads) == 1
    assert (reads[0].patient_id, reads[0].channel, reads[0].resource_type) == (cast.pat.pk, "fhir", "Patient")
    assert reads[0].client_id


def test_read_costs_six_statements_with_its_audit_row(cast, lead_api, django_assert_num_queries):
    """The budget of a read by an EHR's bearer token: the patient under the access rule, their identifiers,
    and the audit append — the transaction (here a savepoint inside the test's own), the chain head under
    the write lock, the row (the database moves the head with it).  The token was verified by the first
    read and is not looked up again."""
    lead_api.get(f"/Patient/{cast.pat.pk}")  # the token is verified and remembered; the audit head exists
    with django_assert_num_queries(6) as queries:
        assert lead_api.get(f"/Patient/{cast.pat.pk}").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("accounts_apitoken" in sql for sql in statements)
    expected = [("SELECT", "patients_patient"), ("SELECT", "patients_patientidentifier"), ("SAVEPOINT", ""),
                ("SELECT", "core_auditchainhead"), ("INSERT INTO", "core_auditevent"), ("RELEASE SAVEPOINT", "")]
    for sql, (verb, table) in zip(statements, expected, strict=True):
        assert verb in sql and table in sql, sql


def test_not_visible_and_nonexistent_give_identical_404(cast, lead_api):
    hidden = lead_api.get(f"/Patient/{cast.other_patient.pk}")
    missing = lead_api.get("/Patient/999999")
    garbage = lead_api.get("/Patient/abc")
    assert hidden.status_code == missing.status_code == garbage.status_code == 404
    assert hidden.content == missing.content == garbage.content
    assert set(hidden.headers) == set(missing.headers)
    assert AuditEvent.objects.filter(action="access_denied", resource_id=str(cast.other_patient.pk),
                                     channel="fhir").exists()


def test_hides_other_organisations_from_staff(cast, session_api):
    outsider = session_api(cast.outsider)
    assert outsider.get(f"/Patient/{cast.pat.pk}").status_code == 404
    found = body(outsider.get("/Patient", {"family": "Patient"}))
    assert found["total"] == 0 and "entry" not in found
    assert body(outsider.get("/Patient"))["total"] == 1  # only their own (Otto)


def test_requires_the_right_role(cast, session_api):
    researcher = session_api(cast.researcher)
    assert researcher.get("/Patient").status_code == 403
    assert researcher.get(f"/Patient/{cast.pat.pk}").status_code == 403
    # Patients see themselves only, and cannot change registration details.
    pat = session_api(cast.patient_user)
    assert pat.get(f"/Patient/{cast.pat.pk}").status_code == 200
    assert body(pat.get("/Patient"))["total"] == 1
    current = body(pat.get(f"/Patient/{cast.pat.pk}"))
    assert pat.put(f"/Patient/{cast.pat.pk}", current).status_code == 403


def test_token_without_scope_is_403(cast, make_token):
    read_only = Fhir(make_token(scopes="system/Patient.r"))
    assert read_only.get(f"/Patient/{cast.pat.pk}").status_code == 200
    assert read_only.get("/Patient").status_code == 403
    assert read_only.post("/Patient", patient_resource()).status_code == 403
    other_type = Fhir(make_token(scopes="system/Organization.rs"))
    response = other_type.get(f"/Patient/{cast.pat.pk}")
    assert response.status_code == 403
    assert body(response)["issue"][0]["code"] == "forbidden"


# --- data-sharing consent --------------------------------------------------------------------------


def test_partner_sees_a_shared_patient_until_the_consent_is_revoked(cast, partner_api):
    assert partner_api.get(f"/Patient/{cast.pat.pk}").status_code == 404
    consent = services.consent_create(
        actor=cast.actor(cast.navigator), patient=cast.pat,
        data=services.ConsentData(kind=ConsentKind.DATA_SHARING, grantee_organization_id=cast.partner.pk),
    )
    assert partner_api.get(f"/Patient/{cast.pat.pk}").status_code == 200
    assert body(partner_api.get("/Patient", {"identifier": "L-1001"}))["total"] == 1
    services.consent_revoke(actor=cast.actor(cast.navigator), consent=Consent.objects.get(pk=consent.pk))
    assert partner_api.get(f"/Patient/{cast.pat.pk}").status_code == 404
    assert body(partner_api.get("/Patient", {"identifier": "L-1001"}))["total"] == 0


# --- search ------------------------------------------------------------------------------------------


def test_search_parameters(cast, lead_api):
    def ids(params):  # type: ignore[no-untyped-def]
        data = body(lead_api.get("/Patient", params))
        return {e["resource"]["id"] for e in data.get("entry", [])}

    pat = str(cast.pat.pk)
    assert ids({"identifier": f"{cast.lead.mrn_system}|L-1001"}) == {pat}
    assert ids({"identifier": "L-1001"}) == {pat}
    assert ids({"identifier": "urn:other|L-1001"}) == set()
    assert ids({"name": "pat"}) == {pat}
    assert ids({"family": "PATI"}) == {pat}
    assert ids({"given": "Otto"}) == set()  # the partner's patient stays hidden
    assert ids({"birthdate": "1961-04-02"}) == {pat}
    assert ids({"birthdate": "1961"}) == {pat}
    assert ids({"birthdate": "lt1961-04-02"}) == set()
    assert ids({"birthdate": "ge1961-04-02"}) == {pat}
    assert ids({"birthdate": "gt1961-04"}) == set()
    assert ids({"_id": pat}) == {pat}
    assert ids({"_id": f"{cast.other_patient.pk}"}) == set()
    assert ids({"organization": f"Organization/{cast.lead.pk}"}) == {pat}
    assert ids({"gender": "male,female"}) == {pat}
    assert ids({"gender": "male"}) == set()


def test_search_post_matches_get_and_keeps_identifiers_out_of_the_url(cast, lead_api):
    response = lead_api.search_post("Patient", {"identifier": "L-1001"})
    assert response.status_code == 200
    data = body(response)
    assert data["total"] == 1
    Bundle.model_validate(data)


def test_search_is_audited_per_patient(cast, lead_api):
    lead_api.get("/Patient", {"name": "Pat"})
    row = AuditEvent.objects.filter(action="search", channel="fhir").get()
    assert (row.patient_id, row.resource_type) == (cast.pat.pk, "Patient")


def test_search_bundle_pages_with_a_working_next_link(cast, lead_api):
    actor = cast.actor(cast.navigator)
    for n in range(5):
        services.patient_create(actor=actor, data=services.PatientData(
            given_name=f"Paging{n}", family_name="Pager", birth_date=dt.date(1980, 1, n + 1), gender="male"))
    first = body(lead_api.get("/Patient", {"family": "Pager", "_count": "2"}))
    Bundle.model_validate(first)
    assert first["total"] == 5
    seen = [e["resource"]["id"] for e in first["entry"]]
    assert first["link"][0]["relation"] == "self"
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    pages = 1
    while url:
        assert url.startswith("http://testserver/fhir/Patient?")
        page = body(lead_api.client.get(url.removeprefix("http://testserver"), headers=lead_api.headers))
        assert page["total"] == 5
        seen += [e["resource"]["id"] for e in page["entry"]]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), "")
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5


def test_count_is_capped_and_total_can_be_skipped(cast, lead_api, settings):
    settings.FHIR_MAX_COUNT = 1
    data = body(lead_api.get("/Patient", {"_count": "500"}))
    assert "_count=1" in data["link"][0]["url"]
    assert len(data["entry"]) == 1
    assert "total" not in body(lead_api.get("/Patient", {"_total": "none"}))
    summary = body(lead_api.get("/Patient", {"_count": "0"}))
    assert summary["total"] == 1 and "entry" not in summary


def test_unknown_or_bad_parameters_are_400_unless_lenient(cast, lead_api):
    unknown = lead_api.get("/Patient", {"shoe-size": "9"})
    assert unknown.status_code == 400
    assert "shoe-size" in body(unknown)["issue"][0]["diagnostics"]
    lenient = lead_api.get("/Patient", {"shoe-size": "9"}, Prefer="handling=lenient")
    assert lenient.status_code == 200
    assert "shoe-size" not in body(lenient)["link"][0]["url"]
    assert lead_api.get("/Patient", {"birthdate": "yesterday"}).status_code == 400
    assert lead_api.get("/Patient", {"birthdate": "1961-02-30"}).status_code == 400
    assert lead_api.get("/Patient", {"_count": "-1"}).status_code == 400
    assert lead_api.get("/Patient", {"name:exact": "Pat"}).status_code == 400


def test_only_json_is_served(cast, lead_api):
    assert lead_api.get("/Patient", {"_format": "xml"}).status_code == 406
    assert lead_api.get("/Patient", Accept="application/fhir+xml").status_code == 406
    assert lead_api.get("/Patient", {"_format": "json"}).status_code == 200
    assert lead_api.get("/Patient", Accept="application/json").status_code == 200


# --- create and update ------------------------------------------------------------------------------


def test_create_returns_201_with_location_and_round_trips(cast, lead_api):
    response = lead_api.post("/Patient", patient_resource())
    assert response.status_code == 201, response.content
    created = body(response)
    FhirPatient.model_validate(created)
    assert response["Location"] == f"http://testserver/fhir/Patient/{created['id']}"
    assert response["ETag"] == 'W/"1"'
    patient = Patient.objects.get(pk=created["id"])
    assert (patient.given_name, patient.family_name, patient.preferred_language) == ("Ana Lucia", "Rivera", "es")
    assert patient.organization_id == cast.lead.pk  # the client's organisation by default
    assert patient.synthetic is True
    ident = patient.identifiers.get()
    assert (ident.type_code, ident.organization_id) == ("MR", cast.lead.pk)
    assert created["name"][0]["given"] == ["Ana", "Lucia"]
    assert AuditEvent.objects.filter(action="create", patient_id=patient.pk, channel="fhir").exists()
    again = lead_api.get(f"/Patient/{created['id']}")
    assert body(again) == created


def test_create_for_another_organisation_is_refused(cast, lead_api):
    resource = patient_resource(managingOrganization={"reference": f"Organization/{cast.partner.pk}"})
    assert lead_api.post("/Patient", resource).status_code == 403


def test_duplicate_identifier_is_409(cast, lead_api):
    resource = patient_resource(identifier=[{"system": cast.lead.mrn_system, "value": "L-1001"}])
    response = lead_api.post("/Patient", resource)
    assert response.status_code == 409
    assert body(response)["issue"][0]["code"] == "duplicate"


@pytest.mark.parametrize("change", [
    {"gender": "sometimes"},
    {"birthDate": "1970-02-30"},
    {"birthDate": None},
    {"name": [{"given": ["NoFamily"]}]},
    {"active": "yes please"},
    {"favouriteColour": "blue"},
    {"communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "not a language"}]}}]},
])
def test_invalid_resources_are_422(cast, lead_api, change):
    resource = patient_resource(**change)
    resource = {k: v for k, v in resource.items() if v is not None}
    response = lead_api.post("/Patient", resource)
    assert response.status_code == 422, response.content
    assert body(response)["resourceType"] == "OperationOutcome"
    assert not Patient.objects.filter(family_name="Rivera").exists()


def test_malformed_wrong_type_and_media_type(cast, lead_api):
    assert lead_api.post("/Patient", "{not json").status_code == 400
    assert lead_api.post("/Patient", {"resourceType": "Organization", "name": "x"}).status_code == 400
    assert lead_api.post("/Patient", "<Patient/>", content_type="application/fhir+xml").status_code == 415
    assert lead_api.post("/Patient", patient_resource(), content_type="application/json").status_code == 201


def test_update_with_if_match_and_412_when_stale(cast, lead_api):
    current = body(lead_api.get(f"/Patient/{cast.pat.pk}"))
    current["telecom"] = [{"system": "phone", "value": "555-0199"}]
    response = lead_api.put(f"/Patient/{cast.pat.pk}", current, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    assert body(response)["meta"]["versionId"] == "2"
    assert Patient.objects.get(pk=cast.pat.pk).phone == "555-0199"
    # The identifiers came back unchanged (full replacement with the same list).
    assert list(cast.pat.identifiers.values_list("value", flat=True)) == ["L-1001"]
    stale = lead_api.put(f"/Patient/{cast.pat.pk}", current, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert body(stale)["issue"][0]["code"] == "conflict"
    assert lead_api.put(f"/Patient/{cast.pat.pk}", current, **{"If-Match": "yesterday"}).status_code == 400
    # Without If-Match the update is last-writer-wins.
    assert lead_api.put(f"/Patient/{cast.pat.pk}", current).status_code == 200


def test_update_id_rules(cast, lead_api):
    current = body(lead_api.get(f"/Patient/{cast.pat.pk}"))
    mismatched = dict(current, id="999")
    assert lead_api.put(f"/Patient/{cast.pat.pk}", mismatched).status_code == 409
    no_id = {k: v for k, v in current.items() if k != "id"}
    assert lead_api.put(f"/Patient/{cast.pat.pk}", no_id).status_code == 400
    hidden = dict(current, id=str(cast.other_patient.pk))
    assert lead_api.put(f"/Patient/{cast.other_patient.pk}", hidden).status_code == 404
    moved = dict(current, managingOrganization={"reference": f"Organization/{cast.partner.pk}"})
    assert lead_api.put(f"/Patient/{cast.pat.pk}", moved).status_code == 422


def test_prefer_return_minimal(cast, lead_api):
    response = lead_api.post("/Patient", patient_resource(), Prefer="return=minimal")
    assert response.status_code == 201
    assert response.content == b""
    assert response["Location"]


def test_if_none_match_gives_304(cast, lead_api):
    assert lead_api.get(f"/Patient/{cast.pat.pk}", **{"If-None-Match": 'W/"1"'}).status_code == 304
    assert lead_api.get(f"/Patient/{cast.pat.pk}", **{"If-None-Match": 'W/"0"'}).status_code == 200


def test_unsupported_interactions_are_405(cast, lead_api):
    response = lead_api.client.delete(f"/fhir/Patient/{cast.pat.pk}", headers=lead_api.headers)
    assert response.status_code == 405
    assert response["Allow"] == "GET, PUT"
