"""FHIR: Questionnaire read, QuestionnaireResponse create, Observation scores, Flag alerts (R4B-validated)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditEvent
from oncoliaison.instruments.models import InstrumentVersion
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
from oncoliaison.monitoring.fhir.responses import questionnaire_responses_ingest
from oncoliaison.monitoring.models import Alert, SymptomReport

pytestmark = pytest.mark.django_db
FHIR_JSON = "application/fhir+json"


class Api:
    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, params: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        return self.client.get(f"/fhir{path}", params or {}, headers=self.headers)

    def post(self, path: str, resource: dict[str, Any]):  # type: ignore[no-untyped-def]
        return self.client.post(f"/fhir{path}", orjson.dumps(resource), content_type=FHIR_JSON, headers=self.headers)


@pytest.fixture
def api(cast):
    def make(org=None, scopes="system/*.cruds") -> Api:
        issued = api_client_create(organization=org or cast.lead, scopes=scopes)
        return Api(token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token)

    return make


def qr(patient_id: int, values: list[int], text: str = "", identifier: str = "") -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"linkId": f"esas-{i}", "answer": [{"valueInteger": v}]}
                                   for i, v in enumerate(values, start=1)]
    if text:
        items.append({"linkId": "anything-else", "answer": [{"valueString": text}]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": f"{QUESTIONNAIRE_BASE}/esas-r", "subject": {"reference": f"Patient/{patient_id}"},
        "authored": "2026-11-23T14:00:00Z", "item": items,
    }
    if identifier:
        resource["identifier"] = {"system": "urn:uuid:app", "value": identifier}
    return resource


def test_questionnaire_read_and_search(api):
    a = api()
    version = InstrumentVersion.objects.get(instrument__code="pro-ctcae")
    r = a.get(f"/Questionnaire/symptom-{version.number}")
    assert r.status_code == 200
    q = orjson.loads(r.content)
    Questionnaire.model_validate(q)
    assert q["url"] == f"{QUESTIONNAIRE_BASE}/pro-ctcae" and "NCI" in q["copyright"]
    nausea = next(i for i in q["item"] if i["linkId"] == "PROCTCAE_9A_SCL")
    assert [o["valueCoding"]["display"] for o in nausea["answerOption"]][:2] == ["Never", "Rarely"]
    found = orjson.loads(a.get("/Questionnaire", {"url": f"{QUESTIONNAIRE_BASE}/esas-r"}).content)
    assert found["total"] == 1


def test_create_questionnaire_response_scores_and_alerts(api, cast, frozen):
    a = api()
    r = a.post("/QuestionnaireResponse", qr(cast.pat.pk, [8, 2, 1, 0, 2, 1, 1, 2, 3], "and a fever"))
    assert r.status_code == 201, r.content
    body = orjson.loads(r.content)
    QuestionnaireResponse.model_validate(body)
    assert body["id"].startswith("symptom-")
    report = SymptomReport.objects.get(pk=body["id"].removeprefix("symptom-"))
    assert report.source == "fhir" and report.reporter_kind == "system"
    alert = Alert.objects.get(report=report)
    assert alert.severity == "severe"
    obs = orjson.loads(a.get("/Observation", {"patient": f"Patient/{cast.pat.pk}", "code": "esas-tsds"}).content)
    assert obs["total"] == 1
    o = obs["entry"][0]["resource"]
    Observation.model_validate(o)
    assert o["valueInteger"] == 20 and o["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/symptom-{report.pk}"
    flag = orjson.loads(a.get(f"/Flag/{alert.pk}").content)
    Flag.model_validate(flag)
    assert flag["status"] == "active" and flag["code"]["coding"][0]["code"] == "severe"
    assert AuditEvent.objects.filter(channel="fhir", resource_type="Flag", action="read").exists()
    from fhir.resources.R4B.task import Task

    from oncoliaison.monitoring import services

    services.alert_record_action(actor=cast.actor(cast.navigator), alert=alert, kind="called_patient", note="OK")
    task = orjson.loads(a.get(f"/Task/symptom-{alert.pk}").content)
    Task.model_validate(task)
    assert task["status"] == "in-progress" and task["focus"]["reference"] == f"Flag/{alert.pk}"
    assert task["owner"]["reference"] == f"Practitioner/{cast.navigator.pk}"
    assert [n["text"] for n in task["note"]] == ["Acknowledged", "Called the patient: OK"]


def test_create_is_idempotent_by_identifier(api, cast, frozen):
    a = api()
    first = a.post("/QuestionnaireResponse", qr(cast.pat.pk, [1] * 9, identifier="qr-1"))
    again = a.post("/QuestionnaireResponse", qr(cast.pat.pk, [1] * 9, identifier="qr-1"))
    assert first.status_code == again.status_code == 201
    assert orjson.loads(first.content)["id"] == orjson.loads(again.content)["id"]
    assert SymptomReport.objects.count() == 1


def test_invalid_response_is_422(api, cast, frozen):
    a = api()
    r = a.post("/QuestionnaireResponse", qr(cast.pat.pk, [11] * 9))
    assert r.status_code == 422 and orjson.loads(r.content)["resourceType"] == "OperationOutcome"
    bad = qr(cast.pat.pk, [1] * 9)
    bad["questionnaire"] = "http://example.org/Questionnaire/other"
    assert a.post("/QuestionnaireResponse", bad).status_code == 422
    assert SymptomReport.objects.count() == 0


def test_hides_other_organisations(api, cast, frozen):
    partner = api(cast.partner)
    r = partner.post("/QuestionnaireResponse", qr(cast.pat.pk, [1] * 9))
    missing = partner.post("/QuestionnaireResponse", qr(999999, [1] * 9))
    assert r.status_code == missing.status_code == 404
    lead = api()
    created = orjson.loads(lead.post("/QuestionnaireResponse", qr(cast.pat.pk, [9] * 9)).content)
    assert partner.get(f"/QuestionnaireResponse/{created['id']}").status_code == 404
    assert lead.get(f"/QuestionnaireResponse/{created['id']}").status_code == 200
    alert = Alert.objects.get()
    assert partner.get(f"/Flag/{alert.pk}").status_code == 404
    assert orjson.loads(partner.get("/Observation").content)["total"] == 0


def test_requires_the_right_scope_and_role(api, cast, frozen):
    read_only = api(scopes="system/QuestionnaireResponse.rs system/Questionnaire.rs")
    assert read_only.post("/QuestionnaireResponse", qr(cast.pat.pk, [1] * 9)).status_code == 403
    no_flags = api(scopes="system/Observation.rs")
    assert no_flags.get("/Flag").status_code == 403
    c = Client()
    c.force_login(cast.researcher)
    assert c.get("/fhir/Flag").status_code == 403


def test_batch_ingest(cast, frozen):
    from oncoliaison.core.actor import Actor
    from oncoliaison.core.scopes import ScopeSet

    actor = Actor(kind="system", client_id="app", client_organization_id=cast.lead.pk,
                  memberships=((cast.lead.pk, "system", cast.lead.kind),),
                  scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    resources = [qr(cast.pat.pk, [1] * 9, identifier="b-1"), qr(cast.other_patient.pk, [1] * 9),
                 {"resourceType": "QuestionnaireResponse", "status": "bogus"}, qr(cast.pat.pk, [9] * 9)]
    outcomes = questionnaire_responses_ingest(actor, resources)
    assert isinstance(outcomes[0], SymptomReport) and isinstance(outcomes[3], SymptomReport)
    assert isinstance(outcomes[1], NotFound)
    assert not isinstance(outcomes[2], SymptomReport)
    assert SymptomReport.objects.count() == 2 and Alert.objects.count() == 1
    reader = Actor(kind="system", client_id="r", client_organization_id=cast.lead.pk,
                   memberships=((cast.lead.pk, "system", cast.lead.kind),), scopes=ScopeSet.parse("system/Flag.rs"))
    with pytest.raises(Forbidden):
        questionnaire_responses_ingest(reader, resources)


def test_batch_response_bundle(cast, frozen):
    from fhir.resources.R4B.bundle import Bundle

    from oncoliaison.core.actor import Actor
    from oncoliaison.core.scopes import ScopeSet
    from oncoliaison.monitoring.fhir.responses import batch_response

    actor = Actor(kind="system", client_id="app", client_organization_id=cast.lead.pk,
                  memberships=((cast.lead.pk, "system", cast.lead.kind),),
                  scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": qr(cast.pat.pk, [1] * 9), "request": {"method": "POST", "url": "QuestionnaireResponse"}},
        {"resource": qr(999999, [1] * 9), "request": {"method": "POST", "url": "QuestionnaireResponse"}},
    ]}
    response = batch_response(actor, bundle)
    Bundle.model_validate(response)
    assert [e["response"]["status"] for e in response["entry"]] == ["201 Created", "404"]
    assert response["entry"][0]["response"]["location"].startswith("QuestionnaireResponse/symptom-")


def test_batch_ingest_refuses_a_malformed_entry_and_stores_the_others(cast, frozen):
    from pydantic import ValidationError

    from oncoliaison.core.actor import Actor
    from oncoliaison.core.errors import ValidationFailed
    from oncoliaison.core.scopes import ScopeSet

    actor = Actor(kind="system", client_id="app", client_organization_id=cast.lead.pk,
                  memberships=((cast.lead.pk, "system", cast.lead.kind),),
                  scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    bad = qr(cast.pat.pk, [2] * 9, identifier="b-2")
    bad["item"][4]["answer"] = [{"valueInteger": "four"}]  # its neighbours are the same as the good entries'
    resources = [qr(cast.pat.pk, [2] * 9, identifier="b-1"), bad, qr(cast.pat.pk, [2] * 9, identifier="b-3")]
    outcomes = questionnaire_responses_ingest(actor, resources)
    assert isinstance(outcomes[0], SymptomReport) and isinstance(outcomes[2], SymptomReport)
    assert isinstance(outcomes[1], ValidationFailed)
    assert outcomes[1].message == ("Not a valid QuestionnaireResponse: Input should be a valid integer, unable to "
                                   "parse string as an integer")
    with pytest.raises(ValidationError):
        QuestionnaireResponse.model_validate(bad)
    assert sorted(SymptomReport.objects.values_list("source_id", flat=True)) == ["b-1", "b-3"]
    assert AuditEvent.objects.filter(resource_type="QuestionnaireResponse").count() == 2


def test_large_batch_stores_reports_and_alerts_with_their_ids(cast, frozen):
    """Enough entries for the bulk path (COPY with ids from the sequence on PostgreSQL)."""
    import datetime as dt

    from oncoliaison.core.actor import Actor
    from oncoliaison.core.scopes import ScopeSet

    actor = Actor(kind="system", client_id="app", client_organization_id=cast.lead.pk,
                  memberships=((cast.lead.pk, "system", cast.lead.kind),),
                  scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    resources = []
    for n in range(30):
        resource = qr(cast.pat.pk, [9] * 9, text="worse today" if n % 2 else "", identifier=f"big-{n}")
        resource["authored"] = (frozen.now - dt.timedelta(minutes=60 - n)).isoformat()
        resources.append(resource)
    outcomes = questionnaire_responses_ingest(actor, resources)
    assert all(isinstance(o, SymptomReport) for o in outcomes)
    stored = {r.pk: r for r in SymptomReport.objects.filter(pk__in=[o.pk for o in outcomes])}
    assert len(stored) == 30
    assert [stored[o.pk].source_id for o in outcomes] == [f"big-{n}" for n in range(30)]
    alerts = list(Alert.objects.filter(report_id__in=stored))
    assert len(alerts) == 30 and all(a.patient_id == cast.pat.pk and a.reasons for a in alerts)
    assert {a.pk for a in alerts} == {o.alert.pk for o in outcomes}
    assert stored[outcomes[1].pk].free_text == "worse today"
    assert AuditEvent.objects.filter(resource_type="QuestionnaireResponse",
                                     resource_id__in=[str(pk) for pk in stored]).count() == 30
    assert AuditEvent.objects.filter(resource_type="Flag", resource_id__in=[str(a.pk) for a in alerts]).count() == 30
    again = questionnaire_responses_ingest(actor, resources)  # idempotent: the stored reports come back
    assert [o.pk for o in again] == [o.pk for o in outcomes]
    assert SymptomReport.objects.count() == 30
