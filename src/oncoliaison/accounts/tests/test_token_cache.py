"""Verified bearer tokens remembered per process: no database round trip, revocation honoured at once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from oncoliaison.accounts import services
from oncoliaison.accounts.services import actor_for_bearer, api_client_create, api_client_revoke, token_issue
from oncoliaison.accounts.token_cache import TokenCache, tokens_verified
from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Unauthenticated

pytestmark = pytest.mark.django_db


def _token(cast, scopes: str = "system/Patient.rs"):  # type: ignore[no-untyped-def]
    issued = api_client_create(organization=cast.lead, scopes=scopes, name="EHR interface")
    return issued, token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def _revoke(issued, token: str) -> None:  # type: ignore[no-untyped-def]
    services.token_revoke(client_id=issued.client_id, client_secret=issued.client_secret, token=token)


def test_a_verified_token_is_checked_again_without_the_database(cast):
    _, token = _token(cast)
    first = actor_for_bearer(token, source_address="10.0.0.7")
    with CaptureQueriesContext(connection) as queries:
        again = actor_for_bearer(token, source_address="10.0.0.8")
    assert len(queries) == 0
    assert (again.client_id, again.memberships, again.scopes) == (first.client_id, first.memberships, first.scopes)
    assert again.source_address == "10.0.0.8" and again.client_organization_id == cast.lead.pk


def test_a_revoked_token_is_refused_on_the_very_next_request(cast, django_capture_on_commit_callbacks):
    issued, token = _token(cast)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert Client().get(f"/fhir/Patient/{cast.pat.pk}", **headers).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        _revoke(issued, token)
    assert Client().get(f"/fhir/Patient/{cast.pat.pk}", **headers).status_code == 401


def test_a_revocation_reaches_another_process_before_its_next_request(cast, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    """Two server processes: each remembers tokens for itself and both read the shared revocation file.
    The revocation happens in this one; the other refuses the token on its very next request."""
    issued, token = _token(cast)
    other_worker = TokenCache()
    monkeypatch.setattr(services, "tokens_verified", other_worker)
    actor_for_bearer(token)
    with CaptureQueriesContext(connection) as queries:
        actor_for_bearer(token)  # the other process answers from what it remembers
    assert len(queries) == 0
    monkeypatch.setattr(services, "tokens_verified", tokens_verified)
    with django_capture_on_commit_callbacks(execute=True):
        _revoke(issued, token)
    monkeypatch.setattr(services, "tokens_verified", other_worker)
    with pytest.raises(Unauthenticated):
        actor_for_bearer(token)


def test_the_revocation_file_is_read_by_a_separate_operating_system_process(cast, settings,
                                                                           django_capture_on_commit_callbacks):
    """What another worker sees: a separate interpreter reads the generation before and after."""
    read = ("import sys; from pathlib import Path; p = Path(sys.argv[1]); "
            "print(p.read_bytes().decode() if p.exists() else '')")
    path = settings.TOKEN_REVOCATION_FILE

    def generation_seen_elsewhere() -> str:
        return subprocess.run([sys.executable, "-c", read, path], check=True, capture_output=True,
                              text=True).stdout.strip()

    before = generation_seen_elsewhere()
    issued, token = _token(cast)
    with django_capture_on_commit_callbacks(execute=True):
        _revoke(issued, token)
    after = generation_seen_elsewhere()
    assert after and after != before
    assert oct(Path(path).stat().st_mode & 0o777) == "0o600"


def test_switching_a_client_off_refuses_its_remembered_tokens(cast, monkeypatch, django_capture_on_commit_callbacks):
    issued, token = _token(cast)
    other_worker = TokenCache()
    monkeypatch.setattr(services, "tokens_verified", other_worker)
    actor_for_bearer(token)
    monkeypatch.setattr(services, "tokens_verified", tokens_verified)
    admin = Actor(kind="staff", user_id=cast.admin.pk, username="linda",
                  memberships=((cast.lead.pk, "program_admin", cast.lead.kind),))
    with django_capture_on_commit_callbacks(execute=True):
        api_client_revoke(actor=admin, client_id=issued.client_id, channel="cli")
    monkeypatch.setattr(services, "tokens_verified", other_worker)
    with pytest.raises(Unauthenticated):
        actor_for_bearer(token)


def test_a_remembered_token_still_expires_on_time(cast, monkeypatch):
    _, token = _token(cast)
    actor_for_bearer(token)
    later = clock.now() + dt.timedelta(seconds=3601)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(Unauthenticated):
        actor_for_bearer(token)


def test_without_remembering_every_request_asks_the_database(cast, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    _, token = _token(cast)
    actor_for_bearer(token)
    with CaptureQueriesContext(connection) as queries:
        actor_for_bearer(token)
    assert len(queries) == 1
