"""Tampering with the audit table as an intruder with database access would: the append-only triggers
disabled (PostgreSQL) or dropped (SQLite) around the statement.  DDL is transactional on both databases,
so the test's rollback restores the triggers."""

from __future__ import annotations

from typing import Any

from django.db import connection


def as_intruder(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
        else:
            cur.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
            cur.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")
        cur.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")
