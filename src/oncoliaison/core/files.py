"""Files that hold patient data or audit evidence are the service account's alone.

The SQLite database (and its WAL and shared-memory files), the ``var/`` folder, bulk-export output, the
audit checkpoint file and the demo log-ins are created owner-only — folders 0700, files 0600 — whatever
the process umask, and tightened when found wider (a file made by an older release or by hand).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Literal

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# SQLite gives its -wal and -shm files the main file's permissions when it creates them; files that
# already exist keep theirs, so they are tightened too.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and any missing parents) as 0700 folders; tighten ``path`` itself if it exists."""
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=PRIVATE_DIR)
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered through the umask
    _tighten(path, PRIVATE_DIR)
    return path


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, current & mode)


def open_private(path: Path, mode: Literal["wb", "ab", "a+b"] = "wb") -> IO[bytes]:
    """Open a file for writing that is created 0600 (never world-readable, not even for an instant)."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    if mode == "wb":
        flags |= os.O_TRUNC
    elif mode == "ab":
        flags |= os.O_APPEND
    else:
        flags = (flags & ~os.O_WRONLY) | os.O_RDWR | os.O_APPEND
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its mode on open
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "r+b" if mode == "a+b" else mode)


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text``, the file owner-only."""
    with open_private(path, "wb") as fh:
        fh.write(text.encode())


def private_sqlite_file(database: str) -> None:
    """Before SQLite opens ``database``: create it 0600 if missing (SQLite then makes its WAL and SHM
    files with the same mode) and tighten it and its companions if they exist.  In-memory and URI
    databases (the test database) are left alone."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        private_dir(path.parent)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for name in ("", *SQLITE_COMPANIONS):
        _tighten(path.with_name(path.name + name), PRIVATE_FILE)
