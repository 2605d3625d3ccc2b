"""POST [base]: symptom-report batches go to monitoring, clinical transactions to the mCODE import."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.test import Client

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core import clock
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
from oncoliaison.monitoring.fhir.responses import is_symptom_report_batch
from oncoliaison.monitoring.models import Alert, SymptomReport
from oncoliaison.oncology.models import CancerCondition

pytestmark = pytest.mark.django_db
FHIR_JSON = "application/fhir+json"


def _post(cast, bundle, scopes="system/*.cruds"):  # type: ignore[no-untyped-def]
    issued = api_client_create(organization=cast.lead, scopes=scopes)
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    return Client().post("/fhir", orjson.dumps(bundle), content_type=FHIR_JSON, HTTP_AUTHORIZATION=f"Bearer {token}")


def _qr(patient_id: int, values: list[int]) -> dict:
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": f"{QUESTIONNAIRE_BASE}/esas-r", "subject": {"reference": f"Patient/{patient_id}"},
            "authored": (clock.now() - dt.timedelta(hours=1)).isoformat(),
            "item": [{"linkId": f"esas-{i}", "answer": [{"valueInteger": v}]} for i, v in enumerate(values, 1)]}


def test_a_batch_of_questionnaire_responses_is_ingested_as_symptom_reports(cast):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": _qr(cast.pat.pk, [9, 1, 1, 1, 1, 1, 1, 1, 1]), "request": {"method": "POST", "url": "QuestionnaireResponse"}},
        {"resource": _qr(cast.other_patient.pk, [1] * 9), "request": {"method": "POST", "url": "QuestionnaireResponse"}},
    ]}
    r = _post(cast, bundle)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["type"] == "batch-response"
    assert [e["response"]["status"][:3] for e in body["entry"]] == ["201", "404"]  # the partner's patient is hidden
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1


def test_a_clinical_transaction_goes_to_the_mcode_import(cast):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:3f1c8b0e-1111-4c5e-9d6a-000000000001",
         "resource": {"resourceType": "Patient", "identifier": [{"system": cast.lead.mrn_system, "value": "L-1001"}],
                      "name": [{"family": "Patient", "given": ["Pat"]}], "gender": "female", "birthDate": "1961-04-02"},
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:3f1c8b0e-1111-4c5e-9d6a-000000000002",
         "resource": {"resourceType": "Condition",
                      "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254837009",
                                           "display": "Malignant neoplasm of breast"}]},
                      "subject": {"reference": "urn:uuid:3f1c8b0e-1111-4c5e-9d6a-000000000001"},
                      "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                                "code": "problem-list-item"}]}]},
         "request": {"method": "POST", "url": "Condition"}},
    ]}
    assert not is_symptom_report_batch(bundle)
    r = _post(cast, bundle)
    assert r.status_code == 200, r.content
    assert r.json()["type"] == "transaction-response"
    assert CancerCondition.objects.filter(patient=cast.pat, code="254837009").exists()


def test_only_all_questionnaire_response_batches_are_symptom_reports():
    qr = {"resource": {"resourceType": "QuestionnaireResponse"}}
    assert is_symptom_report_batch({"type": "batch", "entry": [qr, qr]})
    assert not is_symptom_report_batch({"type": "transaction", "entry": [qr]})
    assert not is_symptom_report_batch({"type": "batch", "entry": [qr, {"resource": {"resourceType": "Patient"}}]})
    assert not is_symptom_report_batch({"type": "batch", "entry": []})
