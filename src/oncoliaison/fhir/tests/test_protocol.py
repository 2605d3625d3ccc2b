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


# --- POST [base]: transaction and batch Bundles -----------------------------------------------------------


@pytest.fixture
def bundle_handler():  # type: ignore[no-untyped-def]
    """A stand-in for the domain that registers for Bundles: it answers with what it was given."""
    from oncoliaison.core.errors import Forbidden
    from oncoliaison.fhir.capability import _statement

    seen: list = []

    def handle(actor, bundle):  # type: ignore[no-untyped-def]
        if not actor.allows("Patient", "c"):
            raise Forbidden("Token scope does not allow importing patients.")
        seen.append((actor.client_id, bundle["type"]))
        return 200, {"resourceType": "Bundle", "type": f"{bundle['type']}-response", "entry": []}

    saved = dict(registry._BUNDLE_HANDLERS)
    registry._BUNDLE_HANDLERS.clear()
    registry.register_bundle_handler()(handle)
    _statement.cache_clear()
    yield seen
    registry._BUNDLE_HANDLERS.clear()
    registry._BUNDLE_HANDLERS.update(saved)
    _statement.cache_clear()


def test_transaction_bundles_go_to_the_registered_handler(cast, lead_api, make_token, bundle_handler):
    from oncoliaison.fhir.tests.conftest import Fhir

    response = lead_api.post("", {"resourceType": "Bundle", "type": "transaction", "entry": []})
    assert response.status_code == 200, response.content
    assert body(response)["type"] == "transaction-response"
    assert bundle_handler[0][1] == "transaction"
    assert lead_api.post("/", {"resourceType": "Bundle", "type": "batch"}).status_code == 200
    assert lead_api.post("", {"resourceType": "Bundle", "type": "collection"}).status_code == 400
    assert lead_api.post("", {"resourceType": "Patient"}).status_code == 400
    assert lead_api.get("").status_code == 405
    assert Fhir().post("", {"resourceType": "Bundle", "type": "batch"}).status_code == 401
    read_only = Fhir(make_token(scopes="system/Patient.rs"))
    assert read_only.post("", {"resourceType": "Bundle", "type": "batch"}).status_code == 403
    statement = body(lead_api.get("/metadata"))
    assert statement["rest"][0]["interaction"] == [{"code": "transaction"}, {"code": "batch"}]


def test_without_a_handler_bundles_are_not_supported(cast, lead_api):
    if registry.has_bundle_handlers():
        pytest.skip("a domain has registered a Bundle handler")
    assert lead_api.post("", {"resourceType": "Bundle", "type": "transaction"}).status_code == 404
    assert "interaction" not in body(lead_api.get("/metadata"))["rest"][0]
