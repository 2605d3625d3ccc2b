"""Reads of instruments: current versions, items, the canonical-URL look-up and whether an instrument is on.

Instrument definitions are public reference data (no patient in them), so these reads take no actor; the
domains' selectors decide who may see the instrument settings of an organisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from oncoliaison.core import clock
from oncoliaison.fhir import codes

from . import cache, rules
from .models import (
    Instrument,
    InstrumentItem,
    InstrumentPermission,
    InstrumentVersion,
    PermissionKind,
    VersionStatus,
)

QUESTIONNAIRE_BASE = f"{codes.CODE_BASE}/Questionnaire"


# --- instruments and versions --------------------------------------------------------------------------------


def instruments_for_purpose(purpose: str) -> QuerySet[Instrument]:
    return Instrument.objects.filter(purpose=purpose)


def instrument_by_code(code: str, *, purpose: str) -> Instrument | None:
    return Instrument.objects.filter(code=code, purpose=purpose).first()


def current_version(instrument: Instrument | int) -> InstrumentVersion | None:
    """The version asked now (cached: versions change only when instruments are loaded, which clears it)."""
    instrument_id = instrument if isinstance(instrument, int) else instrument.pk
    return cache.remember("current", instrument_id, lambda: InstrumentVersion.objects.select_related("instrument")
                          .filter(instrument_id=instrument_id, current=True, status=VersionStatus.ACTIVE).first())


def version_ids(instrument_id: int) -> list[int]:
    """Every version of an instrument, old and current (reports answer any of them)."""
    return cache.remember("version-ids", instrument_id, lambda: list(
        InstrumentVersion.objects.filter(instrument_id=instrument_id).values_list("pk", flat=True)))


def items_by_link_id(version_id: int) -> dict[str, InstrumentItem]:
    return cache.remember("items", version_id, lambda: {
        i.link_id: i for i in InstrumentItem.objects.filter(version_id=version_id)})


# --- canonical URLs --------------------------------------------------------------------------------------


def questionnaire_url(instrument: Instrument) -> str:
    """The canonical URL of an instrument's Questionnaire: <CODE_BASE>/Questionnaire/<code>."""
    return f"{QUESTIONNAIRE_BASE}/{instrument.code}"


def code_of_canonical(canonical: str) -> str | None:
    """The instrument code a canonical (``url`` or ``url|version``) names, None when it is not one of ours."""
    url = canonical.partition("|")[0]
    if not url.startswith(QUESTIONNAIRE_BASE + "/"):
        return None
    return url.rstrip("/").split("/")[-1]


def is_our_questionnaire(canonical: str, *, purpose: str) -> bool:
    code = code_of_canonical(canonical)
    return code is not None and Instrument.objects.filter(code=code, purpose=purpose).exists()


def version_for_canonical(canonical: str, *, purpose: str) -> InstrumentVersion | None:
    """The version a ``questionnaire`` canonical (``url|version``) names; without ``|version``, the current one."""
    code = code_of_canonical(canonical)
    if code is None:
        return None
    version = canonical.partition("|")[2]

    def find() -> InstrumentVersion | None:
        qs = InstrumentVersion.objects.select_related("instrument").filter(
            instrument__code=code, instrument__purpose=purpose)
        return qs.filter(version=version).first() if version else qs.filter(
            current=True, status=VersionStatus.ACTIVE).first()

    return cache.remember("canonical", (purpose, canonical), find)


# --- permissions ------------------------------------------------------------------------------------------


def permission_history(instrument: Instrument, organization_id: int | None) -> list[InstrumentPermission]:
    """Every entry an organisation recorded for an instrument, oldest first."""
    if organization_id is None:
        return []
    return list(InstrumentPermission.objects.filter(instrument=instrument, organization_id=organization_id)
                .select_related("recorded_by").order_by("recorded_at", "id"))


def instrument_enabled_for(instrument: Instrument, organization_id: int | None, *,
                           on: dt.date | None = None) -> tuple[bool, str]:
    """(on?, why) for the organisation on a day (today by default).  Free instruments are on unless switched off;
    one needing permission is on while a recorded permission is in force (granted on or before the day, not
    expired, with its reference)."""
    state = permission_state(instrument, organization_id, on=on)
    return state.enabled, state.why


def permission_state(instrument: Instrument, organization_id: int | None, *,
                     on: dt.date | None = None) -> rules.PermissionState:
    return rules.permission_state(requires_permission=instrument.requires_permission,
                                  rows=permission_history(instrument, organization_id), today=on or clock.today())


def recorded_permission(instrument: Instrument, organization_id: int | None) -> InstrumentPermission | None:
    """The latest grant recorded, whether or not it is still in force (what the settings page shows)."""
    if organization_id is None:
        return None
    return (InstrumentPermission.objects.filter(instrument=instrument, organization_id=organization_id,
                                                kind=PermissionKind.GRANT).order_by("-recorded_at", "-id").first())


@dataclass(frozen=True)
class GrantRecord:
    """A recorded grant and, when it ended, the entry that ended it (a withdrawal or a switch-off)."""

    grant: InstrumentPermission
    ended_by: InstrumentPermission | None

    @property
    def standing(self) -> bool:
        return self.ended_by is None


def grants_of(organization_id: int) -> dict[int, list[GrantRecord]]:
    """Per instrument id: the organisation's grants, oldest first, each with what ended it."""
    rows = list(InstrumentPermission.objects.filter(organization_id=organization_id)
                .select_related("recorded_by").order_by("recorded_at", "id"))
    out: dict[int, list[GrantRecord]] = {}
    ended: dict[int, InstrumentPermission] = {}
    for row in rows:
        grants = [g.grant for g in out.get(row.instrument_id, [])]
        if row.kind == PermissionKind.WITHDRAW and row.withdraws_id is not None:
            ended.setdefault(row.withdraws_id, row)
        elif row.kind == PermissionKind.SWITCH_OFF:
            for g in grants:
                ended.setdefault(g.pk, row)
        if row.kind == PermissionKind.GRANT:
            out.setdefault(row.instrument_id, []).append(GrantRecord(row, None))
    return {iid: [GrantRecord(g.grant, ended.get(g.grant.pk)) for g in records] for iid, records in out.items()}


def grant_record(grant: InstrumentPermission) -> GrantRecord:
    record = next((g for g in grants_of(grant.organization_id).get(grant.instrument_id, []) if g.grant.pk == grant.pk),
                  None)
    return record or GrantRecord(grant, None)


def other_grant_keeps_on(grant: InstrumentPermission, *, on: dt.date | None = None) -> bool:
    """Would the instrument stay on for the organisation without this grant?"""
    today = on or clock.today()
    others = [g for g in rules.standing_grants(permission_history(grant.instrument, grant.organization_id))
              if g.pk != grant.pk]
    return any(rules.in_force(g, today) for g in others)
