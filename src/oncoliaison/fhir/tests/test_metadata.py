"""/fhir/metadata: the CapabilityStatement, compared with a committed snapshot so changes are deliberate.

After a deliberate change: ONCOLIAISON_UPDATE_SNAPSHOTS=1 pytest src/oncoliaison/fhir/tests/test_metadata.py
then review the diff of snapshots/capability_statement.json (and bump CAPABILITY_DATE).
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from django.test import Client
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from oncoliaison.fhir import registry

from .conftest import body

SNAPSHOT = Path(__file__).parent / "snapshots" / "capability_statement.json"


def test_capability_statement_matches_snapshot(db):
    response = Client().get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = body(response)
    statement["software"]["version"] = "(version)"
    if os.environ.get("ONCOLIAISON_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_bytes(orjson.dumps(statement, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    expected = orjson.loads(SNAPSHOT.read_bytes())
    assert statement == expected, "The CapabilityStatement changed; update the snapshot if that was deliberate."


def test_capability_statement_is_valid_fhir_and_lists_the_registry(db):
    statement = body(Client().get("/fhir/metadata"))
    CapabilityStatement.model_validate(statement)
    rest = statement["rest"][0]
    assert [r["type"] for r in rest["resource"]] == [m.resource_type for m in registry.mappers()]
    oauth = rest["security"]["extension"][0]
    assert oauth["extension"][0] == {"url": "token", "valueUri": "http://testserver/fhir/auth/token"}
    audit = next(r for r in rest["resource"] if r["type"] == "AuditEvent")
    assert [i["code"] for i in audit["interaction"]] == ["read", "search-type"]


@pytest.mark.parametrize("path", ["/fhir/metadata", "/fhir/.well-known/smart-configuration"])
def test_discovery_needs_no_token(db, path):
    assert Client().get(path).status_code == 200


def test_unknown_paths_answer_with_an_operation_outcome(db):
    response = Client().get("/fhir/Patient/1/_history/1")
    assert response.status_code == 404
    assert body(response)["resourceType"] == "OperationOutcome"
    response = Client().get("/fhir/Basic")
    assert response.status_code == 404
    assert body(response)["issue"][0]["code"] == "not-supported"


def test_the_project_mounts_these_routes_under_fhir():
    # The other tests use the FHIR routes alone (tests/urls.py); the project must mount the same ones.
    from django.urls import resolve

    from oncoliaison.fhir import auth, views

    assert resolve("/fhir/metadata", urlconf="oncoliaison.urls").func is views.metadata
    assert resolve("/fhir/auth/token", urlconf="oncoliaison.urls").func is auth.token
    assert resolve("/fhir/Patient/12", urlconf="oncoliaison.urls").url_name == "instance"
