"""Every write to instruments: loading a version from its data file, and the permission history.

``version_load`` takes an app registry (``django.apps.apps`` at run time, a migration's ``apps`` in a data
migration), so the same code loads instruments in both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max

from oncoliaison.core import audit, clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict
from oncoliaison.core.models import AuditAction

from . import cache
from .files import source_of
from .models import Instrument, InstrumentPermission, PermissionKind, VersionStatus

# --- loading ------------------------------------------------------------------------------------------------

INSTRUMENT_FIELDS = ("title", "publisher", "source_url", "citation", "licence", "requires_permission", "loinc_code")


@dataclass(frozen=True)
class VersionSpec:
    """One instrument version as read from its data file (the domain's loader builds it)."""

    code: str
    purpose: str
    version: str
    scoring: str
    definition: Mapping[str, Any]
    instrument: Mapping[str, Any]  # INSTRUMENT_FIELDS
    recall: str = ""
    loaded_from: str = ""
    items: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


_KINDS = {"choice": "ordinal", "integer": "scale"}


def version_spec_from_file(path: Path, *, purpose: str) -> VersionSpec:
    """The ``VersionSpec`` of a one-file instrument (``code``, ``version``, ``title``, ``publisher``,
    ``source_url``, ``citation``, ``licence``, ``requires_permission``, ``loinc``, ``scoring``, ``items``).

    An item's ``text`` is the question as its publisher prints it; an item of a copyrighted questionnaire
    carries only a ``gist`` (what it asks, for staff), kept as its short label, and no text."""
    d = json.loads(path.read_text(encoding="utf-8"))
    items = []
    for order, it in enumerate(d.get("items", []), start=1):
        anchors = it.get("anchors", {})
        items.append({
            "link_id": it["link_id"], "order": order, "text": it.get("text", "")[:250],
            "short_label": (it.get("gist") or it.get("text", ""))[:120], "kind": _KINDS.get(it["type"], it["type"]),
            "symptom": it.get("domain", ""), "min_value": it.get("min", 0),
            "max_value": it.get("max", len(it.get("options", [])) - 1), "options": it.get("options", []),
            "anchor_low": anchors.get(str(it.get("min", 0)), ""), "anchor_high": anchors.get(str(it.get("max", "")), ""),
        })
    return VersionSpec(
        code=d["code"], purpose=purpose, version=d["version"], scoring=d["scoring"], definition=d,
        loaded_from=source_of(path), items=items,
        instrument={"title": d["title"], "publisher": d["publisher"], "source_url": d["source_url"],
                    "citation": d["citation"], "licence": d["licence"], "requires_permission": d["requires_permission"],
                    "loinc_code": d.get("loinc", "")},
    )


def checksum_of(definition: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()


LoadOutcome = Literal["created", "replaced", "unchanged"]


def version_load(spec: VersionSpec, *, apps: Apps = global_apps, replace: bool = False,
                 in_use: Callable[[Any], bool] | None = None) -> tuple[Any, LoadOutcome]:
    """Create or refresh an instrument and one version from its data file: ``(version, what was done)``.

    A new version becomes the current one.  An existing version is left alone unless ``replace`` and its
    definition differs; one ``in_use`` (answers were given to it) is never changed in place: publish the change
    under a new version number.  One transaction (a savepoint inside the caller's).
    """
    with transaction.atomic():
        return _version_load(spec, apps=apps, replace=replace, in_use=in_use)


def _version_load(spec: VersionSpec, *, apps: Apps, replace: bool,
                  in_use: Callable[[Any], bool] | None) -> tuple[Any, LoadOutcome]:
    instrument_model = apps.get_model("instruments", "Instrument")
    version_model = apps.get_model("instruments", "InstrumentVersion")
    item_model = apps.get_model("instruments", "InstrumentItem")
    instrument, _ = instrument_model.objects.update_or_create(
        code=spec.code, defaults={"purpose": spec.purpose, **{k: spec.instrument.get(k, "") for k in INSTRUMENT_FIELDS
                                                               if k in spec.instrument}})
    checksum = checksum_of(spec.definition)
    existing = version_model.objects.select_for_update().filter(instrument=instrument, version=spec.version).first()
    if existing is not None:
        if not replace or existing.checksum == checksum:
            return existing, "unchanged"
        if in_use is not None and in_use(existing):
            raise Conflict(f"Version {existing.version} of {spec.code} is in use and differs from {spec.loaded_from}; "
                           "publish the change under a new version number.")
        existing.definition, existing.checksum, existing.scoring = dict(spec.definition), checksum, spec.scoring
        existing.recall, existing.loaded_from = spec.recall, spec.loaded_from[:200]
        existing.save()
        item_model.objects.filter(version=existing).delete()
        _items_create(item_model, existing, spec.items)
        _forget()
        return existing, "replaced"
    number = (version_model.objects.filter(instrument__purpose=spec.purpose).aggregate(n=Max("number"))["n"] or 0) + 1
    version_model.objects.filter(instrument=instrument, current=True).update(current=False)
    version = version_model.objects.create(
        instrument=instrument, version=spec.version, number=number, status=VersionStatus.ACTIVE, current=True,
        scoring=spec.scoring, recall=spec.recall, definition=dict(spec.definition), checksum=checksum,
        loaded_from=spec.loaded_from[:200],
    )
    _items_create(item_model, version, spec.items)
    _forget()
    return version, "created"


_UNLOAD_SQL = (
    "DELETE FROM instruments_instrumentitem WHERE version_id IN (SELECT v.id FROM instruments_instrumentversion v"
    " JOIN instruments_instrument i ON i.id = v.instrument_id WHERE i.purpose = %s)",
    "DELETE FROM instruments_instrumentpermission WHERE instrument_id IN"
    " (SELECT id FROM instruments_instrument WHERE purpose = %s)",
    "DELETE FROM instruments_instrumentversion WHERE instrument_id IN"
    " (SELECT id FROM instruments_instrument WHERE purpose = %s)",
    "DELETE FROM instruments_instrument WHERE purpose = %s",
)


def purpose_unload(purposes: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Remove every instrument of ``purposes`` with its versions, items and permission history: the reverse
    of a data migration that loaded them (a purpose unknown before it cannot stay in the table).  Plain
    deletes, table by table, because a migration's historical models cannot collect the cascade across apps;
    an answer of another domain still pointing at one of these versions stops it (its foreign key)."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for purpose in purposes:
            for sql in _UNLOAD_SQL:
                cursor.execute(sql, [str(purpose)])
    _forget()


def _items_create(item_model: Any, version: Any, items: Sequence[Mapping[str, Any]]) -> None:
    columns = {f.name for f in item_model._meta.get_fields()}
    item_model.objects.bulk_create([item_model(version=version, **{k: v for k, v in row.items() if k in columns})
                                    for row in items])


def _forget() -> None:
    cache.clear()
    transaction.on_commit(cache.clear)


# --- the permission history -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PermissionEntry:
    """What an administrator records.  A domain's service checks its own form's fields before."""

    kind: str
    reference: str = ""
    granted_by: str = ""
    holder: str = ""
    granted_on: dt.date | None = None
    expires_on: dt.date | None = None
    note: str = ""
    reason: str = ""
    withdraws: InstrumentPermission | None = None


def permission_record(*, actor: Actor, instrument: Instrument, organization_id: int, entry: PermissionEntry,
                      detail: str, channel: str = "web") -> InstrumentPermission:
    """Add one entry to the organisation's permission history for the instrument (rows are never changed), and
    the audit row, in one transaction."""
    require_admin(actor, organization_id)
    if entry.kind not in PermissionKind.values:
        raise ValueError(entry.kind)
    with transaction.atomic():
        row = InstrumentPermission.objects.create(
            instrument=instrument, organization_id=organization_id, kind=entry.kind, withdraws=entry.withdraws,
            reference=entry.reference.strip()[:200], granted_by=entry.granted_by.strip()[:200],
            holder=entry.holder.strip()[:200], granted_on=entry.granted_on, expires_on=entry.expires_on,
            note=entry.note.strip(), reason=entry.reason.strip()[:2000], recorded_by_id=actor.user_id,
            recorded_at=clock.now(),
        )
        audit.log(actor, AuditAction.ADMIN, category="instrument", resource_type="Questionnaire",
                  resource_id=instrument.pk, detail=detail, channel=channel)
    return row

