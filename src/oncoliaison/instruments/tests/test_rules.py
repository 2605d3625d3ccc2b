"""The permission rule: which entries of an organisation's history put an instrument on, and why (no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from oncoliaison.instruments.rules import (
    NEEDS_PERMISSION,
    SWITCHED_OFF,
    in_force,
    permission_state,
    standing_grants,
)

TODAY = dt.date(2026, 6, 15)


@dataclass(frozen=True)
class Row:
    pk: int
    kind: str
    reference: str = ""
    granted_on: dt.date | None = None
    expires_on: dt.date | None = None
    withdraws_id: int | None = None


def grant(pk: int, ref: str = "REF-1", granted_on: dt.date | None = dt.date(2026, 1, 1),
          expires_on: dt.date | None = None) -> Row:
    return Row(pk, "grant", ref, granted_on, expires_on)


def state(*rows: Row, requires_permission: bool = True) -> tuple[bool, str]:
    s = permission_state(requires_permission=requires_permission, rows=list(rows), today=TODAY)
    return s.enabled, s.why


def test_a_licensed_instrument_is_off_until_a_permission_is_recorded() -> None:
    assert state() == (False, NEEDS_PERMISSION)
    assert state(grant(1)) == (True, "Permission REF-1 recorded.")


def test_a_permission_granted_for_a_later_day_is_not_in_force_before_that_day() -> None:
    later = grant(1, granted_on=TODAY + dt.timedelta(days=1))
    assert state(later) == (False, "The recorded permission takes effect on 2026-06-16.")
    assert in_force(grant(1, granted_on=TODAY), TODAY)  # from the day it was granted


def test_an_expired_permission_is_off_and_says_when_it_expired() -> None:
    assert state(grant(1, expires_on=TODAY - dt.timedelta(days=1))) == (
        False, "The recorded permission expired on 2026-06-14.")
    assert state(grant(1, expires_on=TODAY))[0]  # the last day still counts


def test_a_permission_needs_its_reference_and_its_date() -> None:
    assert state(grant(1, ref="")) == (False, "No permission reference is recorded.")
    assert not state(grant(1, granted_on=None))[0]


def test_withdrawing_one_grant_leaves_the_others_in_force() -> None:
    rows = (grant(1, "OLD"), grant(2, "NEW"), Row(3, "withdraw", withdraws_id=2))
    assert state(*rows) == (True, "Permission OLD recorded.")
    assert [g.pk for g in standing_grants(rows)] == [1]
    assert state(*rows, Row(4, "withdraw", withdraws_id=1)) == (False, NEEDS_PERMISSION)


def test_switching_off_ends_every_earlier_grant_and_a_later_grant_switches_it_on_again() -> None:
    rows = [grant(1), grant(2, "REF-2"), Row(3, "switch-off")]
    assert state(*rows) == (False, NEEDS_PERMISSION)
    assert state(*rows, grant(4, "REF-3")) == (True, "Permission REF-3 recorded.")


def test_a_free_instrument_is_on_unless_switched_off() -> None:
    assert state(requires_permission=False) == (True, "Free to use.")
    assert state(Row(1, "switch-off"), requires_permission=False) == (False, SWITCHED_OFF)
    assert state(Row(1, "switch-off"), Row(2, "grant"), requires_permission=False)[0]
    # withdrawing a recorded permission does not switch a free instrument off
    assert state(grant(1), Row(2, "withdraw", withdraws_id=1), requires_permission=False)[0]
