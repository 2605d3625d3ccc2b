"""What every benchmark starts with: Django set up against a database of its own, dropped afterwards.

- no ``DATABASE_URL``: a fresh SQLite file (WAL, synchronous=FULL) in a temporary folder, migrated;
- ``DATABASE_URL`` naming PostgreSQL: a test database ``oncoliaison_bench_<name>`` created and migrated beside
  it, so that a test run using the default test database is never disturbed.

The benchmarks import this module from their own folder (``python benchmarks/<name>.py``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_database(name: str, *, own_var_dir: bool = False) -> Iterator[str]:
    """Set up Django on a database of its own and yield its vendor (``sqlite``, ``postgresql``).

    ``own_var_dir``: the files the application writes (export files, checkpoints) go to the temporary
    folder too, removed with it."""
    tmp = tempfile.TemporaryDirectory(prefix=f"oncoliaison-bench-{name}-")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    if own_var_dir:
        os.environ["ONCOLIAISON_VAR_DIR"] = tmp.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncoliaison.settings")
    os.environ.setdefault("ONCOLIAISON_ENV", "test")
    sys.path.insert(0, str(ROOT / "src"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    test_db = None
    if connection.vendor == "sqlite":
        call_command("migrate", interactive=False, verbosity=0)
    else:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"oncoliaison_bench_{name}"
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.vendor
    finally:
        if test_db is not None:
            connection.creation.destroy_test_db(test_db, verbosity=0)
        connection.close()
        tmp.cleanup()
