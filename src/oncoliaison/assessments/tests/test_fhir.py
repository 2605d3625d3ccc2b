"""FHIR mappers of assessments: output validated against the R4 (R4B) models; QuestionnaireResponse input."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.assessments import fhir, services
from oncoliaison.assessments.models import Assessment, AssessmentScore
from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.testing import Cast
from oncoliaison.fhir import codes


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
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{a.pk}"}]
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
    read = mapper.read(actor, str(a.pk))
    assert _valid(mapper.to_fhir(read))["id"] == str(a.pk)


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
        fhir.QuestionnaireResponseMapper().read(outsider, str(a.pk))
    with pytest.raises(NotFound):
        fhir.AssessmentObservationMapper().read(outsider, str(a.scores.first().pk))
    # A response about a patient the caller cannot see is refused like an unknown patient.
    with pytest.raises(ValidationFailed, match="not reference a Patient known to you"):
        fhir.questionnaire_response_from_fhir(_qr(cast, []), actor=outsider)


def test_requires_the_right_role(cast: Cast, versions) -> None:
    for mapper in (fhir.QuestionnaireResponseMapper(), fhir.AssessmentObservationMapper()):
        with pytest.raises(Forbidden):
            mapper.check_access(cast.actor(cast.researcher), "read")
    assert fhir.QuestionnaireMapper().read(cast.actor(cast.navigator), str(versions["nccn-dt"].pk))
