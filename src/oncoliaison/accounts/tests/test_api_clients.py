"""API clients and tokens: revocation (page, command, RFC 7009 endpoint) and the token endpoint throttle."""

from __future__ import annotations

import base64
import io

import orjson
import pytest
from django.core.management import call_command
from django.test import Client

from oncoliaison.accounts.models import ApiClient
from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core.models import AuditEvent, ThrottleWindow

pytestmark = pytest.mark.django_db


def _client(cast, org=None):  # type: ignore[no-untyped-def]
    issued = api_client_create(organization=org or cast.lead, scopes="system/Patient.rs", name="Registry feed")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    return issued, token


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def _post(path: str, data: dict[str, str], **extra: str):  # type: ignore[no-untyped-def]
    from urllib.parse import urlencode

    return Client().post(path, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)


def _reads(token: str) -> int:
    return Client().get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_discovery_advertises_the_revocation_endpoint(cast):
    body = Client().get("/fhir/.well-known/smart-configuration").json()
    assert body["revocation_endpoint"] == "http://testserver/fhir/auth/revoke"


def test_rfc7009_a_client_revokes_its_own_token_and_nothing_else(cast):
    issued, token = _client(cast)
    other, other_token = _client(cast)
    assert _reads(token) == 200
    r = _post("/fhir/auth/revoke", {"token": token, "token_type_hint": "access_token"},
                      **_basic(issued.client_id, issued.client_secret))
    assert r.status_code == 200 and r.content == b""
    assert _reads(token) == 401
    # Someone else's token, or garbage: the same 200, and the other client's token still works.
    assert _post("/fhir/auth/revoke", {"token": other_token},
                         **_basic(issued.client_id, issued.client_secret)).status_code == 200
    assert _post("/fhir/auth/revoke", {"token": "nonsense"},
                         **_basic(issued.client_id, issued.client_secret)).status_code == 200
    assert _reads(other_token) == 200
    wrong = _post("/fhir/auth/revoke", {"token": other_token}, **_basic(other.client_id, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert _post("/fhir/auth/revoke", {}, **_basic(issued.client_id, issued.client_secret)).json()[
        "error"] == "invalid_request"


def test_command_revokes_a_client_and_lists_clients_with_last_use(cast):
    issued, token = _client(cast)
    out = io.StringIO()
    call_command("revoke_api_client", "--list", stdout=out)
    listed = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert listed[0]["client_id"] == issued.client_id and listed[0]["last_used_at"]
    out = io.StringIO()
    call_command("revoke_api_client", issued.client_id, stdout=out)
    assert orjson.loads(out.getvalue())["revoked_at"]
    assert _reads(token) == 401
    r = _post("/fhir/auth/token", {"grant_type": "client_credentials"},
                      **_basic(issued.client_id, issued.client_secret))
    assert r.status_code == 401
    assert AuditEvent.objects.filter(resource_type="ApiClient", channel="cli", detail__startswith="revoked").exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("revoke_api_client", "olc_nobody")


def test_administrators_page_lists_their_clients_and_revokes(cast):
    issued, token = _client(cast)
    theirs, their_token = _client(cast, cast.partner)
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get("/accounts/api-clients/").content.decode()
    assert issued.client_id in page and theirs.client_id not in page
    assert admin.post(f"/accounts/api-clients/{theirs.client_id}/revoke/").status_code == 404
    assert admin.post(f"/accounts/api-clients/{issued.client_id}/revoke/").status_code == 302
    assert _reads(token) == 401 and _reads(their_token) == 200
    assert ApiClient.objects.get(client_id=issued.client_id).revoked_at is not None
    navigator = Client()
    navigator.force_login(cast.navigator)
    assert navigator.get("/accounts/api-clients/").status_code == 403


def test_token_endpoint_throttles_per_client_id_with_retry_after_and_one_audit_row_per_window(cast, settings):
    settings.TOKEN_REQUESTS_PER_CLIENT = 3
    issued, _ = _client(cast)  # one request counted
    for _ in range(2):
        r = _post("/fhir/auth/token", {"grant_type": "client_credentials"},
                          **_basic(issued.client_id, "wrong"), REMOTE_ADDR="192.0.2.1")
        assert r.status_code == 401
    for _ in range(3):
        r = _post("/fhir/auth/token", {"grant_type": "client_credentials"},
                          **_basic(issued.client_id, issued.client_secret), REMOTE_ADDR="192.0.2.1")
        assert r.status_code == 429
        assert int(r["Retry-After"]) > 0 and r.json()["error"] == "temporarily_unavailable"
    rows = list(AuditEvent.objects.filter(action="login_failed").values_list("detail", flat=True))
    assert len(rows) == 2, rows  # the first failure, and the start of the throttle with the counts
    assert "3 requests, 2 failed" in rows[1]
    # The counts live in the database (shared by every worker), keyed by a hash, never the id in clear.
    assert ThrottleWindow.objects.filter(scope="token-client").get().count == 6
    assert not ThrottleWindow.objects.filter(key_hash__contains=issued.client_id).exists()


def test_token_endpoint_throttles_per_address_across_client_ids(cast, settings):
    settings.TOKEN_REQUESTS_PER_ADDRESS = 4
    answers = [_post("/fhir/auth/token", {"grant_type": "client_credentials"},
                             **_basic(f"olc_guess{n}", "x"), REMOTE_ADDR="198.51.100.9").status_code
               for n in range(6)]
    assert answers == [401] * 4 + [429] * 2
    ok = _post("/fhir/auth/token", {"grant_type": "client_credentials"}, **_basic("olc_guess9", "x"),
                       REMOTE_ADDR="198.51.100.10")
    assert ok.status_code == 401  # another address is not affected
