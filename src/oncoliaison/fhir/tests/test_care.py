"""CareTeam, Consent and AuditEvent over FHIR."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careteam import CareTeam as FhirCareTeam
from fhir.resources.R4B.consent import Consent as FhirConsent

from oncoliaison.core.models import AuditEvent
from oncoliaison.fhir import codes
from oncoliaison.patients.models import CareTeam, Consent, ConsentKind, ConsentStatus

from .conftest import Fhir, body

pytestmark = pytest.mark.django_db


def ids(api: Fhir, rtype: str, params: dict) -> set[str]:
    data = body(api.get(f"/{rtype}", params))
    Bundle.model_validate(data)
    return {e["resource"]["id"] for e in data.get("entry", [])}


# --- CareTeam ------------------------------------------------------------------------------------------


def care_team_resource(cast, **overrides):  # type: ignore[no-untyped-def]
    resource = {
        "resourceType": "CareTeam",
        "status": "active",
        "name": "Thoracic oncology team",
        "subject": {"reference": f"Patient/{cast.pat.pk}"},
        "participant": [
            {"role": [{"coding": [{"system": codes.CS_SNOMED, "code": "309295000"}], "text": "Medical oncologist"}],
             "member": {"reference": f"Practitioner/{cast.oncologist.pk}"}, "period": {"start": "2026-01-05"}},
        ],
    }
    resource.update(overrides)
    return resource


def test_care_team_read_and_search(cast, lead_api):
    response = lead_api.get(f"/CareTeam/{cast.care_team.pk}")
    assert response.status_code == 200
    resource = body(response)
    FhirCareTeam.model_validate(resource)
    assert resource["subject"] == {"reference": f"Patient/{cast.pat.pk}"}
    assert [p["member"]["reference"] for p in resource["participant"]] == [
        f"Practitioner/{cast.navigator.pk}", f"Practitioner/{cast.oncologist.pk}"]
    assert ids(lead_api, "CareTeam", {"patient": f"Patient/{cast.pat.pk}"}) == {str(cast.care_team.pk)}
    assert ids(lead_api, "CareTeam", {"participant": f"Practitioner/{cast.navigator.pk}"}) == {str(cast.care_team.pk)}
    assert ids(lead_api, "CareTeam", {"status": "inactive"}) == set()
    assert AuditEvent.objects.filter(resource_type="CareTeam", action="read", patient_id=cast.pat.pk).exists()


def test_care_team_create_and_update(cast, lead_api):
    response = lead_api.post("/CareTeam", care_team_resource(cast))
    assert response.status_code == 201, response.content
    created = body(response)
    FhirCareTeam.model_validate(created)
    team = CareTeam.objects.get(pk=created["id"])
    participant = team.participants.get()
    assert (participant.user_id, participant.role, participant.role_code) == (cast.oncologist.pk,
                                                                             "Medical oncologist", "309295000")
    created["status"] = "inactive"
    response = lead_api.put(f"/CareTeam/{team.pk}", created, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    assert CareTeam.objects.get(pk=team.pk).status == "inactive"
    assert lead_api.put(f"/CareTeam/{team.pk}", created, **{"If-Match": 'W/"1"'}).status_code == 412
    unknown_member = care_team_resource(cast, participant=[{"role": [{"text": "Surgeon"}],
                                                            "member": {"reference": "Practitioner/99999"}}])
    assert lead_api.post("/CareTeam", unknown_member).status_code == 422
    assert lead_api.post("/CareTeam", care_team_resource(cast, status="paused")).status_code == 422


def test_care_team_hides_other_organisations(cast, partner_api, session_api):
    assert partner_api.get(f"/CareTeam/{cast.care_team.pk}").status_code == 404
    assert body(partner_api.get("/CareTeam"))["total"] == 0
    # A care team for a patient the caller cannot see: the reference does not resolve (422, not 404/403).
    other = care_team_resource(cast)
    response = session_api(cast.outsider).post("/CareTeam", other)
    assert response.status_code == 422
    assert "Patient" in body(response)["issue"][0]["diagnostics"]


def test_care_team_requires_the_right_role(cast, session_api, make_token):
    assert session_api(cast.researcher).get("/CareTeam").status_code == 403
    assert session_api(cast.caregiver).post("/CareTeam", care_team_resource(cast)).status_code == 403
    assert Fhir(make_token(scopes="system/CareTeam.rs")).post("/CareTeam", care_team_resource(cast)).status_code == 403


# --- Consent -------------------------------------------------------------------------------------------


def sharing_consent(cast, **overrides):  # type: ignore[no-untyped-def]
    resource = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": codes.CS_CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": codes.CS_CONSENT_KIND, "code": "data_sharing"}]}],
        "patient": {"reference": f"Patient/{cast.pat.pk}"},
        "policyRule": {"coding": [{"system": codes.CS_V3_ACT_CODE, "code": "OPTIN"}]},
        "provision": {
            "type": "permit",
            "period": {"start": "2026-01-01"},
            "actor": [{"role": {"coding": [{"system": codes.CS_V3_PARTICIPATION, "code": "IRCP"}]},
                       "reference": {"reference": f"Organization/{cast.partner.pk}"}}],
        },
    }
    resource.update(overrides)
    return resource


def test_caregiver_proxy_consent_mapping(cast, lead_api):
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    resource = body(lead_api.get(f"/Consent/{consent.pk}"))
    FhirConsent.model_validate(resource)
    assert resource["status"] == "active"
    assert resource["scope"]["coding"][0]["code"] == "patient-privacy"
    assert {"system": codes.CS_CONSENT_KIND, "code": "caregiver_proxy",
            "display": "Caregiver proxy access"} in resource["category"][0]["coding"]
    actor = resource["provision"]["actor"][0]
    assert actor["reference"] == {"type": "RelatedPerson",
                                  "identifier": {"system": codes.SID_USER, "value": str(cast.caregiver.pk)}}
    assert {"system": codes.CS_PROXY_SCOPE, "code": "view", "display": "View only"} in \
        resource["provision"]["action"][0]["coding"]
    # Round trip: PUT back what was read changes nothing but the version.
    response = lead_api.put(f"/Consent/{consent.pk}", resource, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    again = body(response)
    assert {k: v for k, v in again.items() if k != "meta"} == {k: v for k, v in resource.items() if k != "meta"}


def test_data_sharing_consent_over_fhir_shares_and_revokes(cast, lead_api, partner_api):
    assert partner_api.get(f"/Patient/{cast.pat.pk}").status_code == 404
    response = lead_api.post("/Consent", sharing_consent(cast))
    assert response.status_code == 201, response.content
    created = body(response)
    FhirConsent.model_validate(created)
    consent = Consent.objects.get(pk=created["id"])
    assert (consent.kind, consent.grantee_organization_id, str(consent.period_start)) == (
        ConsentKind.DATA_SHARING, cast.partner.pk, "2026-01-01")
    assert partner_api.get(f"/Patient/{cast.pat.pk}").status_code == 200
    assert ids(lead_api, "Consent", {"actor": f"Organization/{cast.partner.pk}"}) == {created["id"]}
    assert ids(lead_api, "Consent", {"category": "data_sharing", "status": "active"}) == {created["id"]}
    created["status"] = "inactive"
    response = lead_api.put(f"/Consent/{consent.pk}", created, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    assert Consent.objects.get(pk=consent.pk).status == ConsentStatus.INACTIVE
    assert partner_api.get(f"/Patient/{cast.pat.pk}").status_code == 404


def test_consent_validation(cast, lead_api):
    no_kind = sharing_consent(cast, category=[{"coding": [{"system": codes.CS_LOINC, "code": "59284-0"}]}])
    assert lead_api.post("/Consent", no_kind).status_code == 422
    no_scope = {k: v for k, v in sharing_consent(cast).items() if k != "scope"}
    assert lead_api.post("/Consent", no_scope).status_code == 422
    no_recipient = sharing_consent(cast, provision={"type": "permit"})
    assert lead_api.post("/Consent", no_recipient).status_code == 422
    bad_status = sharing_consent(cast, status="maybe")
    assert lead_api.post("/Consent", bad_status).status_code == 422
    hidden_patient = sharing_consent(cast, patient={"reference": f"Patient/{cast.other_patient.pk}"})
    assert lead_api.post("/Consent", hidden_patient).status_code == 422


def test_consent_hides_other_organisations(cast, partner_api):
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    assert partner_api.get(f"/Consent/{consent.pk}").status_code == 404
    assert body(partner_api.get("/Consent"))["total"] == 0


def test_consent_requires_the_right_role(cast, session_api, make_token):
    assert session_api(cast.researcher).get("/Consent").status_code == 403
    caregiver = session_api(cast.caregiver)
    assert body(caregiver.get("/Consent"))["total"] == 1  # the proxy consent given to them
    assert caregiver.post("/Consent", sharing_consent(cast)).status_code == 403
    assert Fhir(make_token(scopes="system/Consent.rs")).post("/Consent", sharing_consent(cast)).status_code == 403


# --- AuditEvent ------------------------------------------------------------------------------------------


def test_audit_events_for_administrators(cast, session_api, lead_api):
    lead_api.get(f"/Patient/{cast.pat.pk}")
    admin = session_api(cast.admin)
    response = admin.get("/AuditEvent", {"patient": f"Patient/{cast.pat.pk}", "action": "R"})
    assert response.status_code == 200
    bundle = body(response)
    Bundle.model_validate(bundle)
    assert bundle["total"] >= 1
    event = bundle["entry"][0]["resource"]
    FhirAuditEvent.model_validate(event)
    assert event["action"] == "R"
    assert event["agent"][0]["who"]["identifier"]["system"] == codes.SID_API_CLIENT
    assert {"what": {"reference": f"Patient/{cast.pat.pk}"}, "description": "demographics",
            "role": {"system": codes.CS_OBJECT_ROLE, "code": "1", "display": "Patient"}} in event["entity"]
    read = admin.get(f"/AuditEvent/{event['id']}")
    assert read.status_code == 200
    assert body(read) == event
    # date searches read days in the server's time zone; "recorded" is an instant in UTC
    recorded = dt.datetime.fromisoformat(event["recorded"].replace("Z", "+00:00"))
    today = recorded.astimezone(timezone.get_current_timezone()).date().isoformat()
    assert body(admin.get("/AuditEvent", {"date": f"ge{today}", "_count": "1"}))["total"] >= 1
    assert body(admin.get("/AuditEvent", {"date": "lt2000-01-01"}))["total"] == 0
    assert admin.get("/AuditEvent", {"action": "X"}).status_code == 400
    assert admin.post("/AuditEvent", {"resourceType": "AuditEvent"}).status_code == 405


def test_audit_event_search_by_agent(cast, session_api):
    session_api(cast.navigator).get(f"/Patient/{cast.pat.pk}")
    admin = session_api(cast.admin)
    data = body(admin.get("/AuditEvent", {"agent": f"Practitioner/{cast.navigator.pk}"}))
    assert data["total"] >= 1
    assert all(e["resource"]["agent"][0]["who"]["reference"] == f"Practitioner/{cast.navigator.pk}"
               for e in data["entry"])


def test_audit_events_hide_other_organisations(cast, session_api, partner_api, make_token):
    session_api(cast.outsider).get(f"/Patient/{cast.other_patient.pk}")
    partner_row = AuditEvent.objects.filter(organization_id=cast.partner.pk).first()
    assert partner_row is not None
    admin = session_api(cast.admin)
    assert admin.get(f"/AuditEvent/{partner_row.pk}").status_code == 404
    assert str(partner_row.pk) not in {e["resource"]["id"] for e in body(admin.get("/AuditEvent")).get("entry", [])}
    lead_audit = Fhir(make_token(scopes="system/AuditEvent.rs"))
    assert lead_audit.get(f"/AuditEvent/{partner_row.pk}").status_code == 404


def test_audit_events_require_the_right_role(cast, session_api, lead_api, make_token):
    assert session_api(cast.navigator).get("/AuditEvent").status_code == 403
    assert session_api(cast.patient_user).get("/AuditEvent").status_code == 403
    assert Fhir(make_token(scopes="system/Patient.rs")).get("/AuditEvent").status_code == 403
    assert lead_api.get("/AuditEvent").status_code == 200
