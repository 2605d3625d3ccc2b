"""Shared pytest fixtures: the named cast (see oncoliaison.core.testing)."""

from __future__ import annotations

import pytest

from oncoliaison.core.testing import Cast, make_cast


@pytest.fixture
def cast(db) -> Cast:  # type: ignore[no-untyped-def]
    return make_cast()


@pytest.fixture(autouse=True)
def _fast_hashing(settings):  # type: ignore[no-untyped-def]
    # Argon2 is deliberately slow; tests use a fast hasher except where hashing itself is tested.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


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
