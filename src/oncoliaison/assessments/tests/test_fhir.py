"""FHIR mappers of assessments: output validated against the R4 (R4B) models; QuestionnaireResponse input."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.assessments import fhir, services
from oncoliaison.assessments.models import Assessment, AssessmentScore
from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.fhir import codes
from oncoliaison.testing import Cast


def _valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def _assessment(cast: Cast, versions, code="ahc-hrsn-core", answers=None) -> Assessment:  # type: ignore[no-untyped-def]
    return services.assessment_submit(
        actor=cast.actor(cast.navigator), patient=cast.pat, version=versions[code],
        answers=answers or {"living-situation": ["worried"], "housing-problems": ["mold", "pests"],
                            "safety-hurt": ["sometimes"], "safety-insult": ["frequently"],
                            "safety-threaten": ["rarely"], "safety-scream": ["never"]},
    )


@pytest.mark.parametrize("code", ["ahc-hrsn-core", "nccn-dt"])
def test_questionnaire_is_valid_fhir_with_loinc_codes(cast: Cast, versions, code: str) -> None:
    q = _valid(fhir.questionnaire_to_fhir(versions[code]))
    assert q["url"] == f"{codes.CODE_BASE}/Questionnaire/{code}"
    if code == "ahc-hrsn-core":
        assert q["code"][0]["code"] == "96777-8"
        first = q["item"][0]
        assert first["code"][0] == {"system": "http://loinc.org", "code": "71802-3"}
        assert first["answerOption"][0]["valueCoding"]["code"] == "LA31993-1"
        safety = next(i for i in q["item"] if i["linkId"] == "safety-hurt")
        assert safety["answerOption"][4]["extension"][0]["valueDecimal"] == 5
    else:
        assert "code" not in q  # no LOINC code for the Distress Thermometer
        assert q["item"][0]["type"] == "integer"
        assert {e["valueInteger"] for e in q["item"][0]["extension"]} == {0, 10}
        assert "commercial purpose" in q["copyright"]


def test_questionnaire_response_and_scores_are_valid_fhir(cast: Cast, versions) -> None:
    a = _assessment(cast, versions)
    qr = _valid(fhir.questionnaire_response_to_fhir(a))
    assert qr["questionnaire"].endswith("/Questionnaire/ahc-hrsn-core|2021-core")
    assert qr["author"] == {"reference": f"Practitioner/{cast.navigator.pk}"}
    housing = next(i for i in qr["item"] if i["linkId"] == "housing-problems")
    assert [x["valueCoding"]["code"] for x in housing["answer"]] == ["LA28580-1", "LA31996-4"]  # mold, pests: as given
    safety = AssessmentScore.objects.get(assessment=a, code="hrsn-safety")
    obs = _valid(fhir.score_to_fhir(safety))
    assert obs["code"]["coding"][0] == {"system": "http://loinc.org", "code": "95614-4",
                                        "display": "Social need: Interpersonal safety"}
    assert obs["valueInteger"] == 3 + 5 + 2 + 1
    assert obs["interpretation"][0]["coding"][0]["code"] == "POS"
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/assessment-{a.pk}"}]
    food = _valid(fhir.score_to_fhir(AssessmentScore.objects.get(assessment=a, code="hrsn-food")))
    assert food["dataAbsentReason"]["coding"][0]["code"] == "not-performed"


def test_problem_list_observation_is_a_string(cast: Cast, versions) -> None:
    a = _assessment(cast, versions, code="nccn-dt", answers={"distress": ["2"], "problems-physical": ["pain"]})
    obs = _valid(fhir.score_to_fhir(AssessmentScore.objects.get(assessment=a, code="problem-list-physical")))
    assert obs["valueString"] == "Pain"
    dt_obs = _valid(fhir.score_to_fhir(AssessmentScore.objects.get(assessment=a, code="distress-thermometer")))
    assert dt_obs["valueInteger"] == 2 and dt_obs["interpretation"][0]["coding"][0]["code"] == "NEG"


def _qr(cast: Cast, answers: list[dict], questionnaire: str | None = None) -> dict:
    resource = {
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": questionnaire or f"{codes.CODE_BASE}/Questionnaire/ahc-hrsn-core|2021-core",
        "subject": {"reference": f"Patient/{cast.pat.pk}"}, "authored": "2026-11-20T10:00:00+00:00",
        "item": answers,
    }
    return _valid(resource)


def test_create_from_fhir_accepts_loinc_or_local_codes(cast: Cast, versions) -> None:
    mapper = fhir.QuestionnaireResponseMapper()
    actor = cast.actor(cast.navigator)
    data = mapper.from_fhir(_qr(cast, [
        {"linkId": "food-worry", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA28397-0"}}]},
        {"linkId": "transportation", "answer": [{"valueCoding": {"code": "no"}}]},
    ]), actor=actor)
    a = mapper.create(actor=actor, data=data)
    assert a.authored_at == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    assert a.scores.get(code="hrsn-food").interpretation == "POS"
    assert AuditEvent.objects.filter(channel="fhir", resource_type="QuestionnaireResponse", action="create").exists()
    read = mapper.read(actor, f"assessment-{a.pk}")
    assert _valid(mapper.to_fhir(read))["id"] == f"assessment-{a.pk}"


def test_from_fhir_refuses_bad_input_clearly(cast: Cast, versions) -> None:
    actor = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed, match="not part of the questionnaire"):
        fhir.questionnaire_response_from_fhir(_qr(cast, [{"linkId": "shoe-size", "answer": [{"valueInteger": 9}]}]),
                                              actor=actor)
    with pytest.raises(ValidationFailed, match="known instrument version"):
        fhir.questionnaire_response_from_fhir(
            _qr(cast, [], questionnaire=f"{codes.CODE_BASE}/Questionnaire/ahc-hrsn-core|1999"), actor=actor)
    data = fhir.questionnaire_response_from_fhir(_qr(cast, [
        {"linkId": "utilities", "answer": [{"valueCoding": {"code": "LA0000-0"}}]}]), actor=actor)
    with pytest.raises(ValidationFailed) as exc:
        fhir.QuestionnaireResponseMapper().create(actor=actor, data=data)
    assert "Unknown answer" in exc.value.field_errors["utilities"][0]


def test_hides_other_organisations(cast: Cast, versions) -> None:
    a = _assessment(cast, versions)
    outsider = cast.actor(cast.outsider)
    with pytest.raises(NotFound):
        fhir.QuestionnaireResponseMapper().read(outsider, f"assessment-{a.pk}")
    with pytest.raises(NotFound):
        fhir.AssessmentObservationMapper().read(outsider, f"assessment-{a.scores.first().pk}")
    # A response about a patient the caller cannot see is refused like an unknown patient.
    with pytest.raises(ValidationFailed, match="not reference a Patient known to you"):
        fhir.questionnaire_response_from_fhir(_qr(cast, []), actor=outsider)


def test_requires_the_right_role(cast: Cast, versions) -> None:
    for mapper in (fhir.QuestionnaireResponseMapper(), fhir.AssessmentObservationMapper()):
        with pytest.raises(Forbidden):
            mapper.check_access(cast.actor(cast.researcher), "read")
    assert fhir.QuestionnaireMapper().read(cast.actor(cast.navigator), f"assessment-{versions['nccn-dt'].number}")


# --- over HTTP, composed with the other domains' mappers of the same types ---------------------------------------

def _http(token: str):  # type: ignore[no-untyped-def]
    from django.test import Client

    return Client(), {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}


def _token(organization, scopes: str = "system/*.cruds") -> str:  # type: ignore[no-untyped-def]
    from oncoliaison.accounts.services import api_client_create, token_issue

    issued = api_client_create(organization=organization, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def test_http_read_search_and_create(cast: Cast, versions) -> None:
    import orjson

    a = _assessment(cast, versions)
    client, headers = _http(_token(cast.lead))
    response = client.get(f"/fhir/QuestionnaireResponse/assessment-{a.pk}", headers=headers)
    assert response.status_code == 200
    assert _valid(orjson.loads(response.content))["id"] == f"assessment-{a.pk}"
    bundle = orjson.loads(client.get("/fhir/Observation", {"derived-from": f"QuestionnaireResponse/assessment-{a.pk}"},
                                     headers=headers).content)
    assert {e["resource"]["id"] for e in bundle["entry"]} == {f"assessment-{s.pk}" for s in a.scores.all()}
    bundle = orjson.loads(client.get("/fhir/Observation", {"code": "http://loinc.org|95614-4",
                                                            "patient": f"Patient/{cast.pat.pk}"},
                                     headers=headers).content)
    assert [e["resource"]["valueInteger"] for e in bundle["entry"]] == [11]
    bundle = orjson.loads(client.get("/fhir/Questionnaire", {"name": "nccn"}, headers=headers).content)
    assert [e["resource"]["url"] for e in bundle["entry"]] == [f"{codes.CODE_BASE}/Questionnaire/nccn-dt"]
    created = client.post("/fhir/QuestionnaireResponse", orjson.dumps(_qr(cast, [
        {"linkId": "transportation", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA33-6"}}]},
    ])), content_type="application/fhir+json", headers=headers)
    assert created.status_code == 201, created.content
    new_id = orjson.loads(created.content)["id"]
    assert new_id.startswith("assessment-")
    assert Assessment.objects.get(pk=int(new_id.split("-")[1])).scores.get(code="hrsn-transportation").interpretation == "POS"


def test_http_hides_other_organisations(cast: Cast, versions) -> None:
    import orjson

    a = _assessment(cast, versions)
    client, headers = _http(_token(cast.partner))
    assert client.get(f"/fhir/QuestionnaireResponse/assessment-{a.pk}", headers=headers).status_code == 404
    assert client.get(f"/fhir/QuestionnaireResponse/assessment-{a.pk + 50}", headers=headers).status_code == 404
    bundle = orjson.loads(client.get("/fhir/Observation", {"code": "hrsn-safety"}, headers=headers).content)
    assert bundle["total"] == 0


def test_http_requires_the_right_scope(cast: Cast, versions) -> None:
    import orjson

    a = _assessment(cast, versions)
    client, headers = _http(_token(cast.lead, "system/QuestionnaireResponse.rs"))
    assert client.get(f"/fhir/QuestionnaireResponse/assessment-{a.pk}", headers=headers).status_code == 200
    refused = client.post("/fhir/QuestionnaireResponse", orjson.dumps(_qr(cast, [
        {"linkId": "transportation", "answer": [{"valueCoding": {"code": "yes"}}]}])),
        content_type="application/fhir+json", headers=headers)
    assert refused.status_code == 403
