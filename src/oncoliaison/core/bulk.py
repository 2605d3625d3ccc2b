"""Appending many plain rows at once: the hot write paths (audit rows of a page or export, the answers and
scores of a batch of symptom reports, an imported cancer record) go through here rather than through the
ORM's per-instance ``bulk_create``.

PostgreSQL gets the rows by ``COPY ... FROM STDIN`` (no SQL text to build, no parameters to quote; the
server parses one stream), other databases by one prepared ``executemany``.  Values must already be what
the database driver takes (``Field.get_db_prep_save`` output where a field needs conversion); table and
column names come from the models' own metadata and are quoted, never from input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model

# Below this many rows a plain INSERT is as quick as setting up a COPY.
COPY_FROM = 20


def insert_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                chunk: int = 5000) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``model``'s table, inside the caller's transaction."""
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(c) for c in columns)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql" and len(rows) >= COPY_FROM:
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        for start in range(0, len(rows), chunk):
            cursor.executemany(sql, rows[start:start + chunk])
