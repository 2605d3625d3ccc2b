"""FHIR ServiceRequest (referrals) and EpisodeOfCare (program episodes): create, read, search, access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.servicerequest import ServiceRequest

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core.models import AuditEvent
from oncoliaison.fhir.tests.conftest import Fhir, body
from oncoliaison.organisations.models import Role
from oncoliaison.programs.services import episode_enroll
from oncoliaison.referrals.models import Referral, ReferralStatus
from oncoliaison.referrals.services import ReferralData, referral_accept, referral_create

from .factories import provider_referral

pytestmark = pytest.mark.django_db


def _token(org, scopes="system/*.cruds") -> str:
    issued = api_client_create(organization=org, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def _request(cast, **changes):
    resource = {
        "resourceType": "ServiceRequest",
        "contained": [{"resourceType": "Patient", "id": "p1", "name": [{"family": "Rivera", "given": ["Lucia"]}],
                       "birthDate": "1966-08-12", "gender": "female",
                       "identifier": [{"system": cast.partner.mrn_system, "value": "P-5550"}],
                       "telecom": [{"system": "phone", "value": "555-0123"}]}],
        "extension": [{"url": "https://oncoliaison.org/fhir/StructureDefinition/cancer-stage-as-known",
                       "valueString": "IIB"}],
        "identifier": [{"system": "urn:oid:partner-ehr:orders", "value": "ORD-77"}],
        "status": "active", "intent": "order", "priority": "asap",
        "subject": {"reference": "#p1"},
        "requester": {"reference": f"Practitioner/{cast.outsider.pk}"},
        "performer": [{"reference": f"Organization/{cast.lead.pk}"}],
        "reasonCode": [{"text": "Abnormal mammogram, biopsy pending"},
                       {"coding": [{"system": "http://snomed.info/sct", "code": "254837009"}],
                        "text": "Breast cancer"}],
        "orderDetail": [{"coding": [{"system": "https://oncoliaison.org/fhir/CodeSystem/requested-service",
                                     "code": "navigation"}]}],
    }
    resource.update(changes)
    return resource


def test_ehr_refers_a_new_person_and_reads_it_back(cast):
    ehr = Fhir(_token(cast.partner))
    res = ehr.post("/ServiceRequest", _request(cast))
    assert res.status_code == 201, res.content
    r = Referral.objects.get()
    assert (r.family_name, r.birth_date, r.urgency, r.stage_text) == ("Rivera", dt.date(1966, 8, 12), "emergent", "IIB")
    assert (r.referring_organization, r.referring_clinician, r.receiving_organization) == (
        cast.partner, cast.outsider, cast.lead)
    assert (r.cancer_type_code, r.cancer_type_text, r.reason) == ("254837009", "Breast cancer",
                                                                   "Abnormal mammogram, biopsy pending")
    assert r.requested_services == ["navigation"] and r.external_identifier_value == "ORD-77"
    out = body(res)
    ServiceRequest.model_validate(out)
    assert out["subject"] == {"reference": "#prospect"} and out["priority"] == "stat" and out["status"] == "active"
    # The receiving program reads it too.
    lead = Fhir(_token(cast.lead))
    got = lead.get(f"/ServiceRequest/{r.pk}")
    assert got.status_code == 200 and body(got)["contained"][0]["name"][0]["family"] == "Rivera"
    assert AuditEvent.objects.filter(action="read", resource_type="ServiceRequest", resource_id=str(r.pk)).exists()
    # The same order is received once.
    assert ehr.post("/ServiceRequest", _request(cast)).status_code == 409


def test_linked_referral_maps_to_valid_fhir_with_its_lifecycle(cast):
    clp_user = _clp(cast)
    r = referral_accept(actor=cast.actor(cast.navigator), referral=provider_referral(cast), register_new=True)
    episode_enroll(actor=cast.actor(cast.navigator), referral=r, navigator_id=cast.navigator.pk, clp_id=clp_user.pk)
    lead = Fhir(_token(cast.lead))
    out = body(lead.get(f"/ServiceRequest/{r.pk}"))
    ServiceRequest.model_validate(out)
    assert out["status"] == "completed" and out["subject"] == {"reference": f"Patient/{r.patient_id}"}
    assert {"url": "https://oncoliaison.org/fhir/StructureDefinition/referral-status", "valueCode": "accepted"} in (
        out["extension"])
    bundle = body(lead.get("/EpisodeOfCare", {"patient": f"Patient/{r.patient_id}"}))
    assert bundle["total"] == 1
    ep = bundle["entry"][0]["resource"]
    EpisodeOfCare.model_validate(ep)
    assert ep["careManager"]["reference"] == f"Practitioner/{cast.navigator.pk}"
    assert ep["referralRequest"] == [{"reference": f"ServiceRequest/{r.pk}"}]
    assert ep["extension"][0]["valueReference"]["reference"] == f"Practitioner/{clp_user.pk}"


def _clp(cast):
    from oncoliaison.testing import _staff

    return _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)


def test_search_by_patient_status_and_requester(cast):
    lead_own = referral_create(actor=cast.actor(cast.oncologist), data=ReferralData(reason="x", patient_id=cast.pat.pk))
    partner_ref = provider_referral(cast)
    lead = Fhir(_token(cast.lead))
    ids = lambda res: sorted(int(e["resource"]["id"]) for e in body(res).get("entry", []))  # noqa: E731
    assert ids(lead.get("/ServiceRequest", {"patient": f"Patient/{cast.pat.pk}"})) == [lead_own.pk]
    assert ids(lead.get("/ServiceRequest", {"status": "active"})) == sorted([lead_own.pk, partner_ref.pk])
    assert ids(lead.get("/ServiceRequest", {"requester": f"Practitioner/{cast.outsider.pk}"})) == [partner_ref.pk]
    assert ids(lead.get("/ServiceRequest", {"status": "revoked"})) == []
    status_code = "https://oncoliaison.org/fhir/CodeSystem/referral-status|received"
    assert ids(lead.get("/ServiceRequest", {"status": status_code})) == sorted([lead_own.pk, partner_ref.pk])
    assert lead.get("/ServiceRequest", {"status": "bogus"}).status_code == 400


def test_hides_other_organisations(cast):
    lead_own = referral_create(actor=cast.actor(cast.oncologist), data=ReferralData(reason="x", patient_id=cast.pat.pk))
    partner = Fhir(_token(cast.partner))
    hidden, missing = partner.get(f"/ServiceRequest/{lead_own.pk}"), partner.get("/ServiceRequest/999999")
    assert hidden.status_code == missing.status_code == 404
    assert body(hidden)["issue"] == body(missing)["issue"]
    assert body(partner.get("/ServiceRequest")).get("total") == 0
    # A partner may not refer a lead-program patient it cannot see: the same answer as an unknown patient.
    unknown = partner.post("/ServiceRequest", _request(cast, subject={"reference": "Patient/999999"}, contained=[],
                                                       identifier=[]))
    not_theirs = partner.post("/ServiceRequest", _request(cast, subject={"reference": f"Patient/{cast.pat.pk}"},
                                                          contained=[], identifier=[]))
    assert unknown.status_code == not_theirs.status_code == 422
    assert body(unknown)["issue"] == body(not_theirs)["issue"]
    assert Referral.objects.count() == 1


def test_requires_the_right_scope_and_role(cast):
    read_only = Fhir(_token(cast.partner, "system/ServiceRequest.rs"))
    assert read_only.post("/ServiceRequest", _request(cast)).status_code == 403
    no_episodes = Fhir(_token(cast.lead, "system/ServiceRequest.rs"))
    assert no_episodes.get("/EpisodeOfCare").status_code == 403
    patient_session = Client()
    patient_session.force_login(cast.patient_user)
    assert Fhir(client=patient_session).get("/ServiceRequest").status_code == 403
    researcher = Client()
    researcher.force_login(cast.researcher)
    assert Fhir(client=researcher).get("/EpisodeOfCare").status_code == 403
    assert not Referral.objects.exists()


def test_bad_input_is_a_clear_422_and_changes_nothing(cast):
    ehr = Fhir(_token(cast.partner))
    draft = ehr.post("/ServiceRequest", _request(cast, status="draft"))
    assert draft.status_code == 422 and "status 'active'" in draft.content.decode()
    no_name = _request(cast)
    no_name["contained"][0]["name"] = [{"given": ["Lucia"]}]
    res = ehr.post("/ServiceRequest", no_name)
    assert res.status_code == 422 and "family name" in res.content.decode()
    wrong_program = ehr.post("/ServiceRequest", _request(cast, performer=[{"reference": f"Organization/{cast.partner.pk}"}]))
    assert wrong_program.status_code == 422
    assert ehr.post("/ServiceRequest", {"resourceType": "ServiceRequest", "status": "active"}).status_code == 422
    assert not Referral.objects.exists()
    assert Referral.objects.filter(status=ReferralStatus.RECEIVED).count() == 0
