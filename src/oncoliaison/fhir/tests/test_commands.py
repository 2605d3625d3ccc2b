"""The console commands that set up FHIR clients."""

from __future__ import annotations

from io import StringIO

import orjson
import pytest
from django.core.management import CommandError, call_command

from oncoliaison.accounts.models import ApiClient
from oncoliaison.accounts.services import token_issue
from oncoliaison.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_client_prints_credentials_that_work(cast):
    printed = orjson.loads(run("create_api_client", "--organization", "lead", "--scopes",
                               "system/Patient.rs system/Consent.r", "--name", "Registry feed"))
    assert set(printed) == {"client_id", "client_secret", "organization", "scopes", "token_endpoint"}
    assert printed["organization"] == "lead"
    assert printed["scopes"] == "system/Consent.r system/Patient.rs"
    assert printed["token_endpoint"].endswith("/fhir/auth/token")
    client = ApiClient.objects.get(client_id=printed["client_id"])
    assert client.name == "Registry feed"
    assert printed["client_secret"] not in client.secret_hash
    assert token_issue(client_id=printed["client_id"], client_secret=printed["client_secret"]).access_token
    assert AuditEvent.objects.filter(category="api_client", channel="cli",
                                     resource_id=printed["client_id"]).exists()


def test_create_api_client_refuses_bad_input(cast):
    with pytest.raises(CommandError, match="No organisation"):
        run("create_api_client", "--organization", "nowhere", "--scopes", "system/Patient.rs")
    with pytest.raises(CommandError, match="scope"):
        run("create_api_client", "--organization", "lead", "--scopes", "patient/Patient.read")


def test_list_organizations(cast):
    rows = orjson.loads(run("list_organizations", "--json"))
    assert {"slug": "lead", "name": "Lead Cancer Program", "kind": "lead_program", "active": True} in rows
    table = run("list_organizations")
    assert table.splitlines()[0].split() == ["SLUG", "NAME", "KIND"]
    assert any(line.startswith("partner ") for line in table.splitlines())
