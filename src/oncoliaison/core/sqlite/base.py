"""``ENGINE = "oncoliaison.core.sqlite"``: Django's SQLite backend whose database file, WAL and shared-memory
files are created 0600 (and the ``var/`` folder holding them 0700) before SQLite first opens them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base

from oncoliaison.core.files import private_dir, private_sqlite_file


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        database = str(conn_params.get("database", ""))
        if database and not database.startswith("file:") and database != ":memory:":
            var_dir = Path(settings.VAR_DIR).resolve()
            if Path(database).resolve().parent == var_dir:
                private_dir(var_dir)
            private_sqlite_file(database)
        return super().get_new_connection(conn_params)
