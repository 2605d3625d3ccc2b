"""FHIR CarePlan, Goal and Task over HTTP: valid R4 output, scoping, scopes, Task update."""

from __future__ import annotations

import orjson
import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.assessments import services as assessment_services
from oncoliaison.careplans import services
from oncoliaison.careplans.models import CarePlan
from oncoliaison.core.models import AuditEvent
from oncoliaison.testing import Cast

FHIR_JSON = "application/fhir+json"


def _token(organization, scopes: str = "system/*.cruds") -> str:  # type: ignore[no-untyped-def]
    issued = api_client_create(organization=organization, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def _get(token: str, path: str, params: dict | None = None):  # type: ignore[no-untyped-def]
    return Client().get(f"/fhir{path}", params or {}, headers={"Authorization": f"Bearer {token}",
                                                                "Accept": FHIR_JSON})


def _put(token: str, path: str, body: dict, **headers: str):  # type: ignore[no-untyped-def]
    return Client().put(f"/fhir{path}", orjson.dumps(body), content_type=FHIR_JSON,
                        headers={"Authorization": f"Bearer {token}", **headers})


def _valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


@pytest.fixture
def plan(cast: Cast, versions) -> CarePlan:  # type: ignore[no-untyped-def]
    a = assessment_services.assessment_submit(
        actor=cast.actor(cast.navigator), patient=cast.pat, version=versions["nccn-dt"],
        answers={"distress": ["8"], "problems-practical": ["insurance"], "problems-spiritual": ["faith"]})
    assessment_services.suggestion_decide(actor=cast.actor(cast.navigator),
                                          suggestion=a.suggestions.get(service="chaplaincy"), accept=True)
    return services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.pat, assessment=a)


def test_care_plan_goal_task_are_valid_fhir(cast: Cast, plan: CarePlan) -> None:
    token = _token(cast.lead)
    response = _get(token, f"/CarePlan/{plan.pk}")
    assert response.status_code == 200
    cp = _valid(orjson.loads(response.content))
    assert cp["status"] == "draft" and cp["intent"] == "plan"
    assert cp["supportingInfo"] == [{"reference": f"QuestionnaireResponse/assessment-{plan.source_assessment_id}"}]
    assert len(cp["goal"]) == 2
    referrals = {a["detail"]["code"]["coding"][0]["code"]: a["detail"]["status"] for a in cp["activity"]
                 if a.get("detail", {}).get("kind") == "ServiceRequest"}
    assert referrals == {"financial_counselling": "not-started", "chaplaincy": "scheduled"}  # chaplaincy accepted
    assert any(a.get("reference", {}).get("reference", "").startswith("Task/") for a in cp["activity"])
    assert any(n["text"].startswith("Barrier: Insurance (open)") for n in cp["note"])
    goal = _valid(orjson.loads(_get(token, f"/Goal/{plan.goals.first().pk}").content))
    assert goal["lifecycleStatus"] == "proposed" and goal["target"][0]["dueDate"]
    task = _valid(orjson.loads(_get(token, f"/Task/{plan.tasks.first().pk}").content))
    assert task["basedOn"] == [{"reference": f"CarePlan/{plan.pk}"}]
    assert task["owner"] == {"reference": f"Practitioner/{cast.navigator.pk}"}
    assert task["restriction"]["period"]["end"]
    assert AuditEvent.objects.filter(channel="fhir", resource_type="CarePlan", patient_id=cast.pat.pk).exists()


def test_search_tasks_by_patient_and_status(cast: Cast, plan: CarePlan) -> None:
    token = _token(cast.lead)
    bundle = orjson.loads(_get(token, "/Task", {"patient": f"Patient/{cast.pat.pk}", "status": "requested"}).content)
    assert bundle["total"] == plan.tasks.count()
    bundle = orjson.loads(_get(token, "/CarePlan", {"patient": f"Patient/{cast.pat.pk}"}).content)
    assert bundle["total"] == 1


def test_hides_other_organisations(cast: Cast, plan: CarePlan) -> None:
    partner = _token(cast.partner)
    a, b = _get(partner, f"/CarePlan/{plan.pk}"), _get(partner, f"/CarePlan/{plan.pk + 100}")
    assert a.status_code == b.status_code == 404
    assert orjson.loads(_get(partner, "/Task").content)["total"] == 0
    assert _get(partner, f"/Goal/{plan.goals.first().pk}").status_code == 404


def test_requires_the_right_scope_and_role(cast: Cast, plan: CarePlan) -> None:
    patients_only = _token(cast.lead, "system/Patient.rs")
    assert _get(patients_only, f"/CarePlan/{plan.pk}").status_code == 403
    c = Client()
    c.force_login(cast.researcher)
    assert c.get(f"/fhir/CarePlan/{plan.pk}", headers={"Accept": FHIR_JSON}).status_code == 403


def test_task_update_changes_status_and_owner(cast: Cast, plan: CarePlan) -> None:
    token = _token(cast.lead)
    task = plan.tasks.first()
    resource = orjson.loads(_get(token, f"/Task/{task.pk}").content)
    resource["status"] = "completed"
    resource["owner"] = {"reference": f"Practitioner/{cast.oncologist.pk}"}
    response = _put(token, f"/Task/{task.pk}", resource, **{"If-Match": f'W/"{task.version}"'})
    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.status == "completed" and task.owner_id == cast.oncologist.pk and task.completed_at
    resource = orjson.loads(response.content)
    resource["status"] = "in-progress"
    response = _put(token, f"/Task/{task.pk}", resource)
    assert response.status_code == 409
    read_only = _token(cast.lead, "system/Task.rs")
    assert _put(read_only, f"/Task/{task.pk}", resource).status_code == 403
