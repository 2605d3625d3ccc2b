"""Adherence to oral anticancer medication from pharmacy fills: PDC as PQA defines it, MPR beside it, and the
regimen-aware rule for cyclic regimens.  Pure functions: no database, no clock.

Sources (see docs/adherence.md):

- PQA, "Proportion of Days Covered (PDC)" measure specification (the older public text, mirrored at
  http://studylib.net/doc/7960602/proportion-of-days-covered--pdc-), and PQA's own public test cases
  (https://www.pqaalliance.org/assets/Measures/pdc-dr.js.txt, .../pdc-sta.js.txt): index date, treatment
  period, same-drug overlap shift, truncation at the period end, >= 2 fills on different dates of service,
  adherent at PDC >= 80 %.
- MPR: sum of days' supply dispensed in the period / days in the period; it can exceed 100 % (ISPOR,
  Peterson et al., Value Health 2007).
- PQA has no endorsed adherence measure for oral anticancer medications (PQA, "Year one progress on
  identifying methodologies for adherence or persistence to oral anticancer medications",
  https://www.pqa.org/news/year-one-progress-on-identifying-methodologies-for-adherence-or-persistence-to-oral-anticancer-medications/):
  applying PQA's generic rules to these drugs, and the cyclic rule below, are OncoLiaison's own choices.

What PQA's population measure adds and this patient-level figure does not apply: age >= 18, the hospice and
ESRD exclusions, the end of the period at death or disenrollment, and the older text's requirement that the
index date fall >= 91 days before the period end (not confirmed for current specifications).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

# PQA: "adherent" is a PDC of at least 80 % (90 % applies to antiretrovirals only).
ADHERENT_THRESHOLD = Fraction(80, 100)
# PQA denominator: at least two fills of the target drug on different dates of service.
MIN_FILL_DATES = 2


@dataclass(frozen=True)
class Fill:
    """One dispense of the target drug: the date of service and the days' supply as dispensed (for a cyclic
    regimen: the dosing days the fill supplies)."""

    dispensed_on: dt.date
    days_supply: int


@dataclass(frozen=True)
class Cycle:
    """A cyclic regimen: ``days_on`` dosing days then ``days_off`` planned off days, repeated from
    ``starts_on`` (cycle 1, day 1).  Days before ``starts_on`` are dosing days (daily use)."""

    starts_on: dt.date
    days_on: int
    days_off: int

    def is_dosing_day(self, day: dt.date) -> bool:
        if day < self.starts_on or self.days_off == 0:
            return True
        return (day - self.starts_on).days % (self.days_on + self.days_off) < self.days_on


@dataclass(frozen=True)
class CoveredFill:
    """A fill after the overlap shift: the days it covers in the treatment period (``first``..``last``, or
    None when none of its supply falls in the period)."""

    dispensed_on: dt.date
    days_supply: int
    first: dt.date | None
    last: dt.date | None


@dataclass(frozen=True)
class Adherence:
    """PDC and MPR of one drug over one measurement period, with their basis."""

    period_start: dt.date
    period_end: dt.date
    index_date: dt.date | None  # first fill in the period (PQA's index prescription start date)
    fill_dates: int  # distinct dates of service in the period
    in_denominator: bool
    reason: str  # why not in the denominator, or the basis in words
    denominator_days: int  # days (dosing days, with a cycle) from the index date to the period end
    covered_days: int
    supply_days: int  # sum of the days' supply dispensed in the treatment period (MPR's numerator)
    cyclic: bool
    fills: tuple[CoveredFill, ...]

    @property
    def pdc(self) -> Fraction | None:
        return Fraction(self.covered_days, self.denominator_days) if self.denominator_days else None

    @property
    def mpr(self) -> Fraction | None:
        """Not capped: an MPR over 1 shows supply beyond the days (early or overlapping fills)."""
        return Fraction(self.supply_days, self.denominator_days) if self.denominator_days else None

    @property
    def adherent(self) -> bool | None:
        """PQA: PDC >= 80 %, compared exactly (no rounding); None when not in the denominator."""
        pdc = self.pdc
        return None if not self.in_denominator or pdc is None else pdc >= ADHERENT_THRESHOLD

    @property
    def below_threshold(self) -> bool:
        return self.adherent is False


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    for n in range((last - first).days + 1):
        yield first + dt.timedelta(days=n)


def _dosing_days_to(start: dt.date, supply: int, end: dt.date, cycle: Cycle | None) -> tuple[dt.date | None, dt.date]:
    """Walk ``supply`` dosing days from ``start``: (the last day in the period that consumed supply, or None,
    and the day the next fill's supply may start — any day after ``end`` once the supply passes it).  Off days
    consume nothing; days past ``end`` are truncated (PQA: supply beyond the period end does not count)."""
    day, left, last_in = start, supply, None
    while left > 0:
        if cycle is None or cycle.is_dosing_day(day):
            left -= 1
            if day <= end:
                last_in = day
        day += dt.timedelta(days=1)
        if day > end:
            # The rest lies beyond the period: every later fill of the period would start after it and
            # cover nothing, so where exactly it ends does not matter.
            break
    return last_in, day


def adherence(fills: Sequence[Fill], *, period_start: dt.date, period_end: dt.date,
              cycle: Cycle | None = None) -> Adherence:
    """PDC of one drug (the target medication) over ``period_start``..``period_end`` (inclusive), step by
    step as PQA defines it, and MPR beside it.

    1. Only fills dated in the measurement period count; the index date is the first of them.
    2. The treatment period runs from the index date to the period end.
    3. Fills are taken in date order; a fill that starts before the previous fill's supply has run out starts
       the day after it ends (PQA: the same drug's overlap is shifted forward, carrying an early refill's
       supply forward).  Two fills on the same date overlap entirely: the second follows the first.
    4. Supply past the period end is truncated.
    5. PDC = days covered / days in the treatment period (<= 100 % by construction).
    6. In the denominator only with fills on at least two different dates of service; two fills on the same
       date count once toward that.
    7. Adherent: PDC >= 80 %.

    With a ``cycle`` (the regimen-aware rule, our own — PQA defines none for cyclic regimens): planned off
    days are not days of the measure at all.  Days' supply counts dosing days; a fill's supply is used up on
    dosing days only (off days in between consume nothing); the denominator counts the dosing days of the
    treatment period and the numerator the dosing days covered.  So a patient who takes every cycle on time
    has 100 %, and a missed cycle lowers the PDC by its dosing days only.
    """
    if period_end < period_start:
        raise ValueError("The period ends before it starts.")
    in_period = sorted((f for f in fills if period_start <= f.dispensed_on <= period_end),
                       key=lambda f: f.dispensed_on)
    dates = len({f.dispensed_on for f in in_period})
    if not in_period:
        return Adherence(period_start, period_end, None, 0, False, "No fills in the period.", 0, 0, 0,
                         cycle is not None, ())
    index = in_period[0].dispensed_on
    covered: set[dt.date] = set()
    shifted: list[CoveredFill] = []
    next_free = index
    for fill in in_period:
        start = max(fill.dispensed_on, next_free)
        last, next_free = _dosing_days_to(start, fill.days_supply, period_end, cycle)
        first = start if last is not None and start <= period_end else None
        if first is not None and last is not None:
            covered.update(d for d in _days(first, last) if cycle is None or cycle.is_dosing_day(d))
        shifted.append(CoveredFill(fill.dispensed_on, fill.days_supply, first, last if first else None))
    days = [d for d in _days(index, period_end) if cycle is None or cycle.is_dosing_day(d)]
    supply = sum(f.days_supply for f in in_period)
    in_denominator = dates >= MIN_FILL_DATES
    reason = ("" if in_denominator else
              "One date of service in the period: PQA counts a patient with fills on at least two different dates.")
    return Adherence(period_start, period_end, index, dates, in_denominator, reason, len(days),
                     len(covered.intersection(days)), supply, cycle is not None, tuple(shifted))


def calendar_year_period(year: int, *, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The measurement period of a calendar year: 1 January to 31 December, or to ``today`` for the current
    year (year to date); None for a year that has not begun."""
    start = dt.date(year, 1, 1)
    if start > today:
        return None
    return start, min(dt.date(year, 12, 31), today)


def percent(value: Fraction | Decimal | None) -> str:
    """A figure for people: one decimal, e.g. "79.9 %" (the comparison with 80 % is made on the exact value)."""
    return "—" if value is None else f"{float(value) * 100:.1f} %"
