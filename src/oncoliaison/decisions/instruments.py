"""Load the shared-decision and patient-experience measures from their data files into the instruments app.

``load_measures(apps)`` is what the data migration runs (the migration's app registry, so it works with
historical models); it is idempotent: a version already loaded is left alone.  Files are found through
``instruments.files.data_dir``; their sources and licences are in ``instruments/data/PROVENANCE.md``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

from oncoliaison.instruments.files import data_dir
from oncoliaison.instruments.models import Purpose
from oncoliaison.instruments.services import VersionSpec, purpose_unload, version_load, version_spec_from_file

PURPOSES = (Purpose.DECISION_SUPPORT, Purpose.EXPERIENCE)


def version_specs() -> list[VersionSpec]:
    """Every measure shipped for shared decisions and patient experience, as read from its data file."""
    return [version_spec_from_file(path, purpose=purpose)
            for purpose in PURPOSES for path in sorted(data_dir(purpose).glob("*.json"))]


def load_measures(apps: Any = global_apps) -> None:
    """Load every measure version not loaded yet (a loaded version is left alone)."""
    for spec in version_specs():
        version_load(spec, apps=apps)


def unload_measures(using: str = "default") -> None:
    """The reverse of ``load_measures``: the measures' rows go (a migration back to before their purposes)."""
    purpose_unload(PURPOSES, using=using)
