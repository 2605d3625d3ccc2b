"""Shared pytest fixtures: the named cast (see oncoliaison.testing)."""

from __future__ import annotations

import pytest

from oncoliaison.testing import Cast, make_cast


@pytest.fixture
def cast(db) -> Cast:  # type: ignore[no-untyped-def]
    return make_cast()


@pytest.fixture(autouse=True)
def _audit_checkpoint_file(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Each test's checkpoints (scheduled jobs write them) go to a file of its own, never the repo's var/.
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "var" / "audit-checkpoints.jsonl")


@pytest.fixture(autouse=True)
def _tokens_verified(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Tokens issued inside a test are rolled back after it: forget what was remembered of them; each test
    # announces revocations in a file of its own.
    from oncoliaison.accounts.token_cache import tokens_verified

    settings.TOKEN_REVOCATION_FILE = str(tmp_path / "var" / "token-revocations")
    tokens_verified.clear()
    yield
    tokens_verified.clear()


@pytest.fixture(autouse=True)
def _fast_hashing(settings):  # type: ignore[no-untyped-def]
    # Argon2 is deliberately slow; tests use a fast hasher except where hashing itself is tested.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _post_redirect_get(settings):  # type: ignore[no-untyped-def]
    # Every page test checks post/redirect/get: a form POST answering 200 with a page fails the test
    # (core.middleware.IdempotencyMiddleware), unless the view only searches or signs in.
    settings.PRG_STRICT = True


@pytest.fixture(autouse=True)
def _instrument_cache():  # type: ignore[no-untyped-def]
    # Instrument rows loaded inside a test are rolled back after it: forget what was cached of them.
    from oncoliaison.instruments import cache

    yield
    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """On SQLite, Django's test flush empties tables with DELETE, which the audit table's append-only
    trigger refuses; lift that one trigger in the test database only (PostgreSQL flushes with TRUNCATE,
    which the row trigger does not see).  Tests of the trigger re-create it inside their transaction."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")


@pytest.fixture(scope="session", autouse=True)
def _no_patient_identifiers_in_logs():  # type: ignore[no-untyped-def]
    """Every log record emitted during the run, and every log file under var/, is searched at the end for
    the identifiers that tests/security/test_phi_not_logged.py plants (see tests/security/phi_canary.py)."""
    import logging

    from tests.security.phi_canary import RecordEverything, leaks

    handler = RecordEverything()
    root = logging.getLogger()
    root.addHandler(handler)
    yield
    root.removeHandler(handler)
    found = leaks(handler)
    assert not found, "Patient identifiers were written to the logs:\n" + "\n".join(found)
