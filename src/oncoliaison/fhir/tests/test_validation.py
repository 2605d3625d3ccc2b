"""Validating incoming resources: the same verdict and errors as the R4B model, each distinct element once."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from oncoliaison.fhir import validation


def _observation(value: Any = 7) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": "o1", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-11-23T10:00:00Z",
        "valueQuantity": {"value": value, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
    }


def _errors(model: Any, resource: dict[str, Any], check: Any) -> str | None:
    try:
        check(model, resource)
    except ValidationError as exc:
        return str(exc.errors(include_url=False))  # an error's ctx holds exception objects, equal by text
    return None


BAD_VALUES = [None, 5, "x", [], {}, [None], {"bogus": 1}, [{"coding": "x"}], True, float("nan"), [{}]]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=repr)
@pytest.mark.parametrize("where", [("code",), ("category", 0), ("category", 0, "coding", 0, "code"),
                                   ("valueQuantity", "value"), ("subject",), ("status",)])
def test_same_verdict_and_errors_as_the_model(where: tuple[Any, ...], bad: Any) -> None:
    resource = _observation()
    target: Any = resource
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = bad
    expected = _errors(Observation, resource, lambda m, r: m.model_validate(r))
    with validation.batch():
        validation.validate(Observation, _observation())  # remember the good elements first
        assert _errors(Observation, resource, validation.validate) == expected
    assert _errors(Observation, resource, validation.validate) == expected  # and with nothing remembered


def test_a_remembered_element_does_not_hide_a_bad_neighbour() -> None:
    good = {"linkId": "esas-1", "answer": [{"valueInteger": 1}]}
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [good]}
    bad = copy.deepcopy(qr)
    bad["item"].append({"linkId": "esas-2", "answer": [{"valueInteger": "abc"}]})
    with validation.batch(), pytest.raises(ValidationError) as caught:
        validation.validate(QuestionnaireResponse, qr)
        validation.validate(QuestionnaireResponse, bad)
    assert caught.value.errors()[0]["loc"] == ("item", 1, "answer", 0, "valueInteger")
    assert caught.value.errors()[0]["msg"] == "Input should be a valid integer, unable to parse string as an integer"


def test_elements_are_remembered_once_within_a_batch_and_forgotten_after() -> None:
    validation.validate(Observation, _observation(7))  # outside a batch nothing is remembered
    assert getattr(validation._memory, "elements", None) is None
    with validation.batch():
        remembered = validation._memory.elements
        validation.validate(Observation, _observation(7))
        size = len(remembered)
        assert size > 0
        validation.validate(Observation, _observation(7))
        assert len(remembered) == size
        with validation.batch():  # nested: the same memory
            validation.validate(Observation, _observation(8))  # a new valueQuantity, the rest remembered
        assert len(remembered) == size + 1
    assert validation._memory.elements is None  # no patient data outlives the batch
    assert validation._key({"value": uuid.uuid4()}) is None
    assert validation._key({"value": float("nan")}) is None
    assert validation._key({"value": 1}) != validation._key({"value": True}) != validation._key({"value": 1.0})
