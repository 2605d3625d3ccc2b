"""Pure rules of the program dashboard: the reporting period and the distress-screening rate.

No database and no clock: selectors pass the facts in.

Distress-screening rate (the Commission on Cancer psychosocial distress screening standard, as this program
measures it):

- denominator: patients with a program episode at the organisation that is open (planned, active, on hold)
  or finished and that overlaps the reporting period (started on or before its last day, and not ended
  before its first day).  Cancelled episodes do not count.
- numerator: those of them with at least one completed (or amended) NCCN Distress Thermometer assessment,
  taken under the organisation, authored from the start of one of their counted episodes up to the end of
  the reporting period (or the episode's end, when it ended earlier).  Assessments marked entered in error
  do not count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SCREENING_INSTRUMENT = "nccn-dt"
SCREENING_DEFINITION = (
    "Patients with a program episode (open or finished, not cancelled) overlapping the period are counted; "
    "a patient is screened when a completed NCCN Distress Thermometer was recorded under this organisation "
    "between the start of that episode and the end of the period (or of the episode, if it ended earlier)."
)
MAX_PERIOD_DAYS = 366 * 5


@dataclass(frozen=True)
class Period:
    """Reporting period: whole days from ``first`` to ``last``, both included."""

    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def default_period(today: dt.date) -> Period:
    """The last 12 months: the same day a year ago (the 28th for 29 February) up to today."""
    try:
        first = today.replace(year=today.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        first = today.replace(year=today.year - 1, day=28) + dt.timedelta(days=1)
    return Period(first, today)


def period_error(first: dt.date, last: dt.date) -> str | None:
    """None when the period can be reported, else a sentence for the form."""
    if last < first:
        return "The end date is before the start date."
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        return "Choose a period of five years or less."
    return None


def month_keys(period: Period) -> list[str]:
    """Every month (YYYY-MM) the period touches, in order, so that empty months show as zero."""
    keys = []
    year, month = period.first.year, period.first.month
    while (year, month) <= (period.last.year, period.last.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


@dataclass(frozen=True)
class EpisodeFacts:
    patient_id: int
    status: str
    start: dt.date
    end: dt.date | None


COUNTED_STATUSES = frozenset({"planned", "active", "onhold", "finished"})


def episode_counts(episode: EpisodeFacts, period: Period) -> bool:
    """Whether the episode puts its patient in the denominator for ``period``."""
    if episode.status not in COUNTED_STATUSES:
        return False
    return episode.start <= period.last and (episode.end is None or episode.end >= period.first)


@dataclass(frozen=True)
class ScreeningRate:
    eligible: int
    screened: int

    @property
    def rate(self) -> float | None:
        return self.screened / self.eligible if self.eligible else None

    @property
    def not_screened(self) -> int:
        return self.eligible - self.screened


def screening_rate(episodes: Iterable[EpisodeFacts], screens: Mapping[int, Sequence[dt.date]],
                   period: Period) -> ScreeningRate:
    """The distress-screening rate (see the module's definition); ``screens`` maps a patient to the dates
    (local) of their completed Distress Thermometer assessments under the organisation."""
    eligible: set[int] = set()
    screened: set[int] = set()
    for ep in episodes:
        if not episode_counts(ep, period):
            continue
        eligible.add(ep.patient_id)
        window_end = min(period.last, ep.end) if ep.end is not None else period.last
        if any(ep.start <= day <= window_end for day in screens.get(ep.patient_id, ())):
            screened.add(ep.patient_id)
    return ScreeningRate(len(eligible), len(screened))


def in_period(day: dt.date | None, period: Period) -> bool:
    return day is not None and period.first <= day <= period.last
