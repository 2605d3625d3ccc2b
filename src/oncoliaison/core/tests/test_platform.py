"""Platform promises: health check, security headers, CSP, settings for SQLite durability."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_healthz_answers_when_the_database_does(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "up"}


@pytest.mark.django_db
def test_security_headers_and_csp_on_pages(client):
    r = client.get("/accounts/login/")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_passwords_hash_with_argon2_outside_tests():
    # conftest swaps in a fast hasher for speed; the configured default is Argon2.
    from oncoliaison import settings as configured

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_sqlite_runs_wal_full_sync_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings")
    opts = settings.DATABASES["default"]["OPTIONS"]
    assert opts["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in opts["init_command"] and "synchronous=FULL" in opts["init_command"]


def test_connections_are_persistent():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] is None


@pytest.mark.django_db
def test_answers_are_not_stored_by_browsers_or_proxies(client):
    for url in ("/accounts/login/", "/api/me", "/fhir/metadata", "/refer/"):
        assert "no-store" in client.get(url).headers["Cache-Control"], url
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")
