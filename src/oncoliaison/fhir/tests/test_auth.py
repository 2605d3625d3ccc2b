"""The OAuth 2.0 token endpoint, SMART discovery and how FHIR callers authenticate."""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import urlencode

import orjson
import pytest
from django.test import Client

from oncoliaison.accounts.services import api_client_create
from oncoliaison.core import clock
from oncoliaison.core.models import AuditEvent

from .conftest import Fhir, body

pytestmark = pytest.mark.django_db
TOKEN = "/fhir/auth/token"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def registered(cast):  # type: ignore[no-untyped-def]
    return api_client_create(organization=cast.lead, scopes="system/Patient.rs system/Consent.rs")


def token_post(data, headers=None, content_type=FORM):  # type: ignore[no-untyped-def]
    payload = urlencode(data) if content_type == FORM else orjson.dumps(data)
    return Client().post(TOKEN, payload, content_type=content_type, headers=headers or {})


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_client_secret_basic_issues_a_bearer_token(registered):
    response = token_post({"grant_type": "client_credentials"},
                             {"Authorization": basic(registered.client_id, registered.client_secret)})
    assert response.status_code == 200
    data = body(response)
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] > 0
    assert data["scope"] == "system/Consent.rs system/Patient.rs"
    assert response["Cache-Control"] == "no-store"
    assert Fhir(data["access_token"]).get("/Patient").status_code == 200


def test_client_secret_post_and_scope_narrowing(registered):
    response = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                                     "client_secret": registered.client_secret, "scope": "system/Patient.r"})
    assert response.status_code == 200
    data = body(response)
    assert data["scope"] == "system/Patient.r"
    api = Fhir(data["access_token"])
    # Narrowed to read: search is now refused with 403.
    assert api.get("/Patient").status_code == 403


def test_bad_secret_is_invalid_client_and_audited(registered):
    response = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                                     "client_secret": "wrong"})
    assert response.status_code == 401
    assert body(response)["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")
    assert AuditEvent.objects.filter(action="login_failed", channel="fhir").exists()


def test_unknown_client_gets_the_same_answer_as_a_bad_secret(registered):
    bad = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                                "client_secret": "wrong"})
    unknown = token_post({"grant_type": "client_credentials", "client_id": "olc_nobody",
                                    "client_secret": "wrong"})
    assert (bad.status_code, bad.content) == (unknown.status_code, unknown.content)


def test_scope_not_granted_is_invalid_scope(registered):
    response = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                                     "client_secret": registered.client_secret, "scope": "system/AuditEvent.rs"})
    assert response.status_code == 400
    assert body(response)["error"] == "invalid_scope"
    malformed = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                                      "client_secret": registered.client_secret, "scope": "patient/*.read"})
    assert body(malformed)["error"] == "invalid_scope"


def test_protocol_errors(registered):
    wrong_grant = token_post({"grant_type": "password", "client_id": registered.client_id,
                                        "client_secret": registered.client_secret})
    assert (wrong_grant.status_code, body(wrong_grant)["error"]) == (400, "unsupported_grant_type")
    two_methods = token_post({"grant_type": "client_credentials", "client_secret": "x"},
                                {"Authorization": basic(registered.client_id, registered.client_secret)})
    assert body(two_methods)["error"] == "invalid_request"
    no_auth = token_post({"grant_type": "client_credentials"})
    assert (no_auth.status_code, body(no_auth)["error"]) == (401, "invalid_client")
    json_body = token_post({"grant_type": "client_credentials"}, content_type="application/json")
    assert body(json_body)["error"] == "invalid_request"
    assert Client().get(TOKEN).status_code == 405


def test_expired_token_is_refused(registered, monkeypatch):
    response = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                                     "client_secret": registered.client_secret})
    api = Fhir(body(response)["access_token"])
    assert api.get("/Patient").status_code == 200
    later = clock.now() + dt.timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    expired = api.get("/Patient")
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired["WWW-Authenticate"]
    assert body(expired)["resourceType"] == "OperationOutcome"


def test_missing_or_malformed_credentials_are_401(cast):
    none = Client().get("/fhir/Patient")
    assert none.status_code == 401
    assert none["WWW-Authenticate"].startswith("Bearer")
    assert body(none)["issue"][0]["code"] == "login"
    garbage = Fhir("not-a-token").get("/Patient")
    assert garbage.status_code == 401
    basic_scheme = Client().get("/fhir/Patient", headers={"Authorization": "Basic abc"})
    assert basic_scheme.status_code == 401


def test_smart_configuration(cast):
    response = Client().get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    data = body(response)
    assert data["token_endpoint"] == "http://testserver/fhir/auth/token"
    assert data["grant_types_supported"] == ["client_credentials"]
    assert set(data["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert {"client-confidential-symmetric", "permission-v2"} <= set(data["capabilities"])
    assert "system/Patient.crus" in data["scopes_supported"]
    assert "system/AuditEvent.rs" in data["scopes_supported"]


def test_signed_in_session_reads_but_writes_need_csrf(cast, session_api):
    api = session_api(cast.navigator)
    assert api.get(f"/Patient/{cast.pat.pk}").status_code == 200
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(cast.navigator)
    response = Fhir(client=csrf_client).post("/Patient", {"resourceType": "Patient"})
    assert response.status_code == 403
    assert body(response)["resourceType"] == "OperationOutcome"


def test_session_needs_completed_second_factor_when_required(cast, session_api, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    api = session_api(cast.navigator)
    assert api.get(f"/Patient/{cast.pat.pk}").status_code == 401


def test_token_endpoint_failure_is_an_oauth_error_without_data(registered, monkeypatch, caplog):
    import oncoliaison.fhir.auth as auth_module

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"database said no to {kwargs['client_secret']}")

    monkeypatch.setattr(auth_module, "token_issue", broken)
    response = token_post({"grant_type": "client_credentials", "client_id": registered.client_id,
                           "client_secret": registered.client_secret})
    assert response.status_code == 500
    assert body(response)["error"] == "server_error"
    assert registered.client_secret not in caplog.text
