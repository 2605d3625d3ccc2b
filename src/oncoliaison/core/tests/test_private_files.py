"""Files holding patient data or audit evidence are created owner-only (0600 files, 0700 folders) even
under the usual 022 umask: the SQLite database with its WAL and SHM files, var/, the demo log-ins,
uploaded documents."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from oncoliaison.core.files import open_private, private_dir
from oncoliaison.core.sqlite.base import DatabaseWrapper


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _sqlite(path: Path) -> Any:
    """A raw connection opened the way the backend opens one (pytest-django guards only Django's own)."""
    params = {"NAME": str(path), "ENGINE": "oncoliaison.core.sqlite", "OPTIONS": {
        "init_command": "PRAGMA journal_mode=WAL;"}, "TIME_ZONE": None, "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {}}
    wrapper = DatabaseWrapper(params, alias="private-files-test")
    return wrapper.get_new_connection(wrapper.get_connection_params())


def test_sqlite_database_wal_and_shm_files_are_owner_only(tmp_path: Path, settings, usual_umask: None) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path / "var"
    db = settings.VAR_DIR / "oncoliaison.sqlite3"
    conn = _sqlite(db)
    try:
        conn.execute("CREATE TABLE t (x integer)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
        names = {p.name: _mode(p) for p in settings.VAR_DIR.iterdir()}
    finally:
        conn.close()
    assert names["oncoliaison.sqlite3"] == 0o600
    assert names["oncoliaison.sqlite3-wal"] == 0o600 and names["oncoliaison.sqlite3-shm"] == 0o600
    assert _mode(settings.VAR_DIR) == 0o700


def test_files_made_world_readable_before_are_tightened(tmp_path: Path, settings, usual_umask: None) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir(mode=0o755)
    db = settings.VAR_DIR / "oncoliaison.sqlite3"
    for name in ("", "-wal"):
        (settings.VAR_DIR / f"oncoliaison.sqlite3{name}").touch(mode=0o644)
    conn = _sqlite(db)
    try:
        conn.execute("SELECT 1")
    finally:
        conn.close()
    assert _mode(db) == 0o600 and _mode(settings.VAR_DIR) == 0o700
    assert _mode(settings.VAR_DIR / "oncoliaison.sqlite3-wal") == 0o600


def test_private_helpers(tmp_path: Path, usual_umask: None) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == 0o700 and _mode(folder) == 0o700
    target = folder / "x.ndjson"
    target.touch(mode=0o644)
    with open_private(target, "wb") as fh:
        fh.write(b"{}\n")
    assert _mode(target) == 0o600


@pytest.mark.django_db
def test_demo_logins_file_is_owner_only(tmp_path: Path, settings, usual_umask: None) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path / "var"
    call_command("seed_demo", patients=16)
    logins = settings.VAR_DIR / "demo-logins.txt"
    assert _mode(logins) == 0o600 and _mode(settings.VAR_DIR) == 0o700


def test_uploaded_documents_are_owner_only(tmp_path: Path, settings, usual_umask: None) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage

    settings.MEDIA_ROOT = tmp_path / "uploads"
    storage = FileSystemStorage()  # reads the upload permissions from settings, as default_storage does
    name = storage.save("referrals/7/report.pdf", ContentFile(b"%PDF-1.4"))
    assert _mode(Path(storage.path(name))) == 0o600
    assert _mode(tmp_path / "uploads" / "referrals" / "7") == 0o700 and _mode(tmp_path / "uploads") == 0o700
