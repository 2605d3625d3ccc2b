"""Protocol behaviour shared by every resource: error bodies, unexpected errors, sizes, outputs that validate."""

from __future__ import annotations

import logging

import pytest
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.operationoutcome import OperationOutcome

from oncoliaison.fhir import registry
from oncoliaison.patients import services
from oncoliaison.patients.models import ConsentKind

from .conftest import body, patient_resource

pytestmark = pytest.mark.django_db


def test_error_bodies_are_valid_operation_outcomes(cast, lead_api):
    responses = [
        lead_api.get("/Patient", {"nope": "1"}),                      # 400
        lead_api.get(f"/Patient/{cast.other_patient.pk}"),            # 404
        lead_api.post("/Patient", patient_resource(gender="x")),      # 422
        lead_api.post("/Patient", "x", content_type="text/plain"),    # 415
    ]
    assert [r.status_code for r in responses] == [400, 404, 422, 415]
    for response in responses:
        OperationOutcome.model_validate(body(response))


def test_unexpected_errors_answer_500_and_log_no_patient_data(cast, lead_api, monkeypatch, caplog):
    mapper = registry.get("Patient")

    def broken(obj):  # type: ignore[no-untyped-def]
        raise ValueError(f"cannot map {obj.given_name} {obj.family_name}")

    monkeypatch.setattr(mapper, "to_fhir", broken)
    with caplog.at_level(logging.ERROR):
        response = lead_api.get(f"/Patient/{cast.pat.pk}")
    assert response.status_code == 500
    OperationOutcome.model_validate(body(response))
    assert "ValueError" in caplog.text
    assert "Pat" not in caplog.text.replace("Patient", "")  # neither the name nor the message is logged


def test_oversized_bodies_are_413(cast, lead_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = lead_api.post("/Patient", patient_resource(text={"status": "generated", "div": "x" * 2000}))
    assert response.status_code == 413


@pytest.mark.parametrize("kind", [ConsentKind.TREATMENT, ConsentKind.RESEARCH, ConsentKind.DATA_SHARING])
def test_every_consent_kind_validates(cast, lead_api, kind):
    data = services.ConsentData(kind=kind, grantee_organization_id=cast.partner.pk if kind == "data_sharing" else None)
    consent = services.consent_create(actor=cast.actor(cast.navigator), patient=cast.pat, data=data)
    resource = body(lead_api.get(f"/Consent/{consent.pk}"))
    FhirConsent.model_validate(resource)
    # And what was read can be written back unchanged.
    response = lead_api.put(f"/Consent/{consent.pk}", resource)
    assert response.status_code == 200, response.content
