"""Pure rules of instruments: whether an organisation's permission history puts an instrument on, and why.

No I/O: ``permission_state`` reads the history rows it is given (oldest first) and the day.  Scoring is not
here: each domain scores its instruments in its own ``rules.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

GRANT, WITHDRAW, SWITCH_OFF = "grant", "withdraw", "switch-off"

NEEDS_PERMISSION = "Needs the owner's permission: a program administrator must record it and switch it on."
SWITCHED_OFF = "Switched off by the program administrator."
FREE = "Free to use."


class PermissionRow(Protocol):
    """What the rule reads of a history row (an ``InstrumentPermission``)."""

    @property
    def pk(self) -> object: ...
    @property
    def kind(self) -> str: ...
    @property
    def withdraws_id(self) -> object: ...
    @property
    def reference(self) -> str: ...
    @property
    def granted_on(self) -> dt.date | None: ...
    @property
    def expires_on(self) -> dt.date | None: ...


@dataclass(frozen=True)
class PermissionState:
    enabled: bool
    why: str
    grant: PermissionRow | None = None  # the grant in force (the latest recorded), else the latest one that ended


def standing_grants(rows: Sequence[PermissionRow]) -> list[PermissionRow]:
    """The grants not ended by a withdrawal or a later switch-off, oldest first (in force or not yet)."""
    standing: list[PermissionRow] = []
    for row in rows:
        if row.kind == GRANT:
            standing.append(row)
        elif row.kind == WITHDRAW:
            standing = [g for g in standing if g.pk != row.withdraws_id]
        elif row.kind == SWITCH_OFF:
            standing = []
    return standing


def in_force(grant: PermissionRow, today: dt.date) -> bool:
    """A grant counts from the day it was granted (never before) until the day it expires (inclusive)."""
    if not grant.reference:
        return False
    if grant.granted_on is None or grant.granted_on > today:
        return False
    return grant.expires_on is None or grant.expires_on >= today


def permission_state(*, requires_permission: bool, rows: Sequence[PermissionRow], today: dt.date) -> PermissionState:
    """On or off for the organisation whose history ``rows`` is (oldest first), and why.

    A free instrument is on unless the latest switch (a grant or a switch-off) switched it off.  An instrument
    that needs permission is on while a recorded grant is in force: it has a reference, its grant date has come
    and it has not expired; none of these is ever assumed.
    """
    standing = standing_grants(rows)
    if not requires_permission:
        switches = [r for r in rows if r.kind in (GRANT, SWITCH_OFF)]
        if switches and switches[-1].kind == SWITCH_OFF:
            return PermissionState(False, SWITCHED_OFF)
        return PermissionState(True, FREE, standing[-1] if standing else None)
    if not standing:
        return PermissionState(False, NEEDS_PERMISSION)
    for grant in reversed(standing):
        if in_force(grant, today):
            return PermissionState(True, f"Permission {grant.reference} recorded.", grant)
    latest = standing[-1]
    if not latest.reference:
        return PermissionState(False, "No permission reference is recorded.", latest)
    if latest.granted_on is None:
        return PermissionState(False, "The recorded permission has no grant date.", latest)
    if latest.granted_on > today:
        return PermissionState(False, f"The recorded permission takes effect on {latest.granted_on:%Y-%m-%d}.", latest)
    assert latest.expires_on is not None
    return PermissionState(False, f"The recorded permission expired on {latest.expires_on:%Y-%m-%d}.", latest)
