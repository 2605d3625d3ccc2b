"""POST /fhir of a transaction or batch Bundle, through the oncology adapter."""

from __future__ import annotations

import pytest

from oncoliaison.accounts.services import system_actor
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.scopes import ScopeSet
from oncoliaison.oncology.fhir.bundles import bundle_post, import_source_for
from oncoliaison.oncology.models import CancerCondition
from oncoliaison.testing import Cast

from .test_importing import small_bundle


def client(cast: Cast, scopes: str = "system/*.cruds", org: int | None = None) -> Actor:
    return system_actor(client_id="partner-emr", organization_id=org or cast.lead.pk,
                        scopes=ScopeSet.parse(scopes))


def test_transaction_answers_a_transaction_response(cast: Cast) -> None:
    status, body = bundle_post(client(cast), small_bundle())
    assert status == 200 and body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created"] * 4
    status, body = bundle_post(client(cast), small_bundle())
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK"] * 4
    assert CancerCondition.objects.get().source_system == import_source_for(client(cast))


def test_refused_transaction_answers_an_operation_outcome_naming_the_entry(cast: Cast) -> None:
    bundle = small_bundle()
    bundle["entry"][3]["resource"]["valueInteger"] = "one"
    status, body = bundle_post(client(cast), bundle)
    assert status == 400 and body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["expression"] == ["Bundle.entry[3]"]
    assert not CancerCondition.objects.exists()


def test_hides_other_organisations_records_go_to_the_clients_own_organisation(cast: Cast) -> None:
    status, _ = bundle_post(client(cast, org=cast.partner.pk), small_bundle())
    assert status == 200
    assert CancerCondition.objects.get().patient.organization_id == cast.partner.pk
    with pytest.raises(Forbidden):
        bundle_post(client(cast, org=cast.partner.pk), small_bundle(), organization_id=cast.lead.pk)


def test_requires_the_right_role_and_scope(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        bundle_post(cast.actor(cast.researcher), small_bundle())
    status, body = bundle_post(client(cast, scopes="system/*.rs"), small_bundle("batch"))
    assert status == 200
    assert {e["response"]["status"] for e in body["entry"]} == {"403 Forbidden"}


# --- FHIR transaction rules: an entry the record does not hold is never "200 OK" ------------------------

ENCOUNTER = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
             "subject": {"reference": "urn:uuid:p-1"}}


def test_a_transaction_with_an_entry_the_record_does_not_hold_stores_nothing_and_names_it(cast: Cast) -> None:
    bundle = small_bundle()
    bundle["entry"].append({"fullUrl": "urn:uuid:e-1", "resource": ENCOUNTER,
                            "request": {"method": "POST", "url": "Encounter"}})
    status, body = bundle_post(client(cast), bundle)
    assert status == 400 and body["resourceType"] == "OperationOutcome"
    (issue,) = [i for i in body["issue"] if i["severity"] == "error"]
    assert issue["code"] == "not-supported" and issue["expression"] == ["Bundle.entry[4]"]
    assert "Encounter is not stored" in issue["diagnostics"]
    assert not CancerCondition.objects.exists()


def test_a_batch_entry_the_record_does_not_hold_gets_its_own_error_status(cast: Cast) -> None:
    bundle = small_bundle("batch")
    bundle["entry"].append({"fullUrl": "urn:uuid:e-1", "resource": ENCOUNTER,
                            "request": {"method": "POST", "url": "Encounter"}})
    status, body = bundle_post(client(cast), bundle)
    assert status == 200 and body["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created"] * 4 + ["422 Unprocessable Entity"]
    assert body["entry"][4]["response"]["outcome"]["issue"][0]["code"] == "not-supported"
    assert CancerCondition.objects.count() == 1


def test_a_transaction_nested_130_levels_is_refused_naming_the_entry(cast: Cast) -> None:
    bundle = small_bundle()
    deep: dict = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(130):
        deep = {"url": "http://example.org/x", "extension": [deep]}
    bundle["entry"][3]["resource"]["extension"] = [deep]
    status, body = bundle_post(client(cast), bundle)
    assert status == 400 and body["issue"][0]["expression"] == ["Bundle.entry[3]"]
    assert "nested deeper than" in body["issue"][0]["diagnostics"]
    assert not CancerCondition.objects.exists()


def test_a_whole_synthea_record_of_almost_4_mb_is_taken_in_one_bundle(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    """Every other request body may hold 2.5 MiB (Django's default); POST [base] takes whole patient records,
    up to FHIR_BUNDLE_MAX_BYTES, and answers 413 beyond it — with or without an Idempotency-Key."""
    import gzip

    import orjson
    from django.test import Client

    from oncoliaison.accounts.services import api_client_create, token_issue

    from .fixtures import synthea_paths

    largest = max(synthea_paths(), key=lambda p: len(gzip.decompress(p.read_bytes())))
    # As a batch: the entries the cancer record holds are stored, the others answered one by one (a
    # transaction would refuse the whole record for its Claims and Encounters, which the record does not hold).
    raw = orjson.dumps({**orjson.loads(gzip.decompress(largest.read_bytes())), "type": "batch"}, option=orjson.OPT_INDENT_2)  # as sent: indented
    assert len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # the case Django's default limit refused
    issued = api_client_create(organization=cast.lead, scopes="system/*.cruds")
    tok = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    headers = {"Authorization": f"Bearer {tok}", "Idempotency-Key": "synthea-whole-record-1"}
    post = Client().post("/fhir", raw, content_type="application/fhir+json", headers=headers)
    assert post.status_code == 200, post.content[:300]
    assert CancerCondition.objects.filter(patient__organization=cast.lead).exists()
    again = Client().post("/fhir", raw, content_type="application/fhir+json", headers=headers)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    settings.FHIR_BUNDLE_MAX_BYTES = 1024 * 1024
    refused = Client().post("/fhir", raw, content_type="application/fhir+json", headers={"Authorization": f"Bearer {tok}"})
    assert refused.status_code == 413 and b"too-costly" in refused.content
