"""Where the instruments' data files are: ``instruments/data/<purpose>/``, one folder per ``Purpose`` value,
as published, with their sources, licences and checksums in ``instruments/data/PROVENANCE.md``.

Every loader (the data migrations, ``oncoliaison load-instruments``) and every rule that reads a published
table finds its files through ``data_dir``, so the files can move without touching a migration.
"""

from __future__ import annotations

from pathlib import Path

DATA_ROOT = Path(__file__).resolve().parent / "data"


def data_dir(purpose: str) -> Path:
    """The folder of the data files of the instruments of ``purpose`` (a ``Purpose`` value)."""
    return DATA_ROOT / purpose


def source_of(path: Path) -> str:
    """How a version's ``loaded_from`` names a data file or folder: its path inside the application."""
    return path.relative_to(DATA_ROOT.parents[1]).as_posix()
