"""Pure rules of tumor boards: the case and meeting transition tables, recurrence, the CoC standard 2.5
figures and the concordance of recommendations with the treatments given.  No database, no clock: callers
pass what the rules need.

CoC standard 2.5 (Optimal Resources for Cancer Care, 2020 Standards, "Multidisciplinary Cancer Case
Conference"): the cancer committee sets a conference policy; the cancer conference coordinator monitors and
evaluates conference frequency, multidisciplinary attendance, total and prospective case presentations, and
the discussion of stage, national treatment guidelines and clinical-trial options, and reports them to the
committee every year.  The required specialties default to diagnostic radiology, pathology, surgery, medical
oncology and radiation oncology and are set per series by the program's policy (docs/tumor-boards.md says
how each figure is defined).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .models import CaseStatus, Concordance, MeetingStatus, RecommendationKind, Recurrence

C = CaseStatus
M = MeetingStatus

# A submitted case: the coordinator accepts it onto a meeting's agenda, defers it (to a later meeting, or
# back to the queue) or declines it.  An accepted case is discussed at the meeting, or taken off the agenda.
CASE_TRANSITIONS: dict[str, dict[str, str]] = {
    C.SUBMITTED: {C.ACCEPTED: "accept", C.DEFERRED: "defer", C.DECLINED: "decline"},
    C.DEFERRED: {C.ACCEPTED: "accept", C.DECLINED: "decline", C.SUBMITTED: "resubmit"},
    C.ACCEPTED: {C.DISCUSSED: "discuss", C.DEFERRED: "defer", C.DECLINED: "decline"},
    C.DECLINED: {},
    C.DISCUSSED: {},
}
CASE_TERMINAL = frozenset(s for s, nexts in CASE_TRANSITIONS.items() if not nexts)

MEETING_TRANSITIONS: dict[str, dict[str, str]] = {
    M.SCHEDULED: {M.IN_PROGRESS: "start", M.CANCELLED: "cancel", M.HELD: "close"},
    M.IN_PROGRESS: {M.HELD: "close"},
    M.HELD: {},
    M.CANCELLED: {},
}


def _label(choices: type[CaseStatus] | type[MeetingStatus], value: str) -> str:
    return str(dict(choices.choices).get(value, value)).lower()


def case_transition_error(current: str, target: str) -> str | None:
    """None when the case may move from ``current`` to ``target``, else a sentence the coordinator can act on."""
    if target in CASE_TRANSITIONS.get(current, {}):
        return None
    if current in CASE_TERMINAL:
        return f"The case is already {_label(CaseStatus, current)}; it cannot be changed."
    allowed = ", ".join(_label(CaseStatus, s) for s in CASE_TRANSITIONS.get(current, {}))
    return f"A case that is {_label(CaseStatus, current)} cannot become {_label(CaseStatus, target)} " \
           f"(it can become: {allowed})."


def meeting_transition_error(current: str, target: str) -> str | None:
    if target in MEETING_TRANSITIONS.get(current, {}):
        return None
    if not MEETING_TRANSITIONS.get(current):
        return f"The meeting is already {_label(MeetingStatus, current)}; it cannot be changed."
    return f"A meeting that is {_label(MeetingStatus, current)} cannot become {_label(MeetingStatus, target)}."


# --- recurrence --------------------------------------------------------------------------------------------


def _add_months(day: dt.datetime, months: int) -> dt.datetime:
    """The same weekday position of the month ``months`` later (the 2nd Tuesday stays the 2nd Tuesday;
    a 5th occurrence that does not exist becomes the month's last)."""
    nth = (day.day - 1) // 7
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    first_weekday, days = calendar.monthrange(year, month)
    first = 1 + (day.weekday() - first_weekday) % 7
    target = first + 7 * nth
    while target > days:
        target -= 7
    return day.replace(year=year, month=month, day=target)


def occurrences(first: dt.datetime, recurrence: str, count: int) -> list[dt.datetime]:
    """``count`` meeting starts of a series from ``first`` (weekly, every other week, or monthly on the same
    weekday of the month)."""
    if count < 0:
        raise ValueError("count must not be negative")
    if recurrence == Recurrence.WEEKLY:
        return [first + dt.timedelta(weeks=i) for i in range(count)]
    if recurrence == Recurrence.BIWEEKLY:
        return [first + dt.timedelta(weeks=2 * i) for i in range(count)]
    if recurrence == Recurrence.MONTHLY:
        return [_add_months(first, i) for i in range(count)]
    raise ValueError(f"Unknown recurrence '{recurrence}'.")


def submission_deadline(starts_at: dt.datetime, hours: int) -> dt.datetime:
    return starts_at - dt.timedelta(hours=hours)


# --- the CoC standard 2.5 figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingFacts:
    """What the report needs of one meeting of the year: its status, the specialties and organisations of
    those who attended, and the cases discussed."""

    status: str
    specialties: frozenset[str]
    attendee_organizations: frozenset[int]
    cases: tuple[CaseFacts, ...] = ()


@dataclass(frozen=True)
class CaseFacts:
    prospective: bool
    stage_discussed: bool
    guideline_discussed: bool
    trial_discussed: bool
    from_partner: bool = False


@dataclass(frozen=True)
class Share:
    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.count / self.of, 1) if self.of else None


@dataclass(frozen=True)
class ConferenceReport:
    """The CoC 2.5 figures of one series (or the whole program) for one year."""

    scheduled: int
    held: int
    cancelled: int
    cases_presented: int
    prospective: Share
    stage_discussed: Share
    guideline_discussed: Share
    trial_discussed: Share
    specialty_attendance: dict[str, Share] = field(default_factory=dict)
    all_required_present: Share = Share(0, 0)
    partner_conferences: Share = Share(0, 0)
    partner_cases: Share = Share(0, 0)


def conference_report(meetings: Iterable[MeetingFacts], *, required_specialties: Sequence[str],
                      home_organization_ids: frozenset[int]) -> ConferenceReport:
    """The figures from the meetings of a year.

    - scheduled: every meeting of the year, cancelled ones included; held: those that took place.
    - cases presented: cases discussed at a held meeting; each percentage below is of these cases.
    - specialty attendance: for each required specialty, the share of held meetings at which at least one
      attendee of that specialty was present; "all required present": the share at which every one was.
    - partner participation: held meetings with an attendee from an organisation other than the series'
      own, and cases submitted from a partner organisation."""
    rows = list(meetings)
    held = [m for m in rows if m.status == M.HELD]
    cases = [c for m in held for c in m.cases]
    n = len(cases)

    def share(pred: Iterable[bool], of: int) -> Share:
        return Share(sum(1 for p in pred if p), of)

    return ConferenceReport(
        scheduled=len(rows), held=len(held), cancelled=sum(1 for m in rows if m.status == M.CANCELLED),
        cases_presented=n,
        prospective=share((c.prospective for c in cases), n),
        stage_discussed=share((c.stage_discussed for c in cases), n),
        guideline_discussed=share((c.guideline_discussed for c in cases), n),
        trial_discussed=share((c.trial_discussed for c in cases), n),
        specialty_attendance={s: share((s in m.specialties for m in held), len(held)) for s in required_specialties},
        all_required_present=share((set(required_specialties) <= m.specialties for m in held), len(held)),
        partner_conferences=share((bool(m.attendee_organizations - home_organization_ids) for m in held), len(held)),
        partner_cases=share((c.from_partner for c in cases), n),
    )


# --- concordance ---------------------------------------------------------------------------------------------

# How long after the meeting a recommended treatment counts as the one the board recommended (CoC standard
# 7.2 concordance studies compare the board's recommendation with the first course of treatment that
# followed; the window is the program's choice — documented in docs/tumor-boards.md).
CONCORDANCE_WINDOW_DAYS = 180

# Which treatment kinds in the record follow each recommendation kind; kinds absent here (work-up,
# surveillance, referrals, second opinion) cannot be told from the treatment record and need a manual entry.
TREATMENT_OF_KIND: dict[str, str] = {
    RecommendationKind.SURGERY: "surgery",
    RecommendationKind.SYSTEMIC: "medication",
    RecommendationKind.RADIATION: "radiotherapy",
}


@dataclass(frozen=True)
class Treatment:
    kind: str  # surgery | radiotherapy | medication (oncology.selectors.TimelineItem.kind)
    started: dt.date | None
    label: str


@dataclass(frozen=True)
class ConcordanceResult:
    value: str
    evidence: str


def concordance(kind: str, *, meeting_day: dt.date, today: dt.date, treatments: Sequence[Treatment],
                window_days: int = CONCORDANCE_WINDOW_DAYS) -> ConcordanceResult:
    """Whether the record shows the recommended treatment started within the window after the meeting:
    followed (with the treatment as evidence), not followed (the window passed without it), pending (the
    window is still open), or not applicable (a kind the treatment record cannot tell)."""
    wanted = TREATMENT_OF_KIND.get(kind)
    if wanted is None:
        return ConcordanceResult(Concordance.NOT_APPLICABLE, "")
    end = meeting_day + dt.timedelta(days=window_days)
    for t in sorted(treatments, key=lambda t: t.started or dt.date.max):
        if t.kind == wanted and t.started is not None and meeting_day <= t.started <= end:
            return ConcordanceResult(Concordance.FOLLOWED, f"{t.label} started {t.started.isoformat()}")
    if today > end:
        return ConcordanceResult(Concordance.NOT_FOLLOWED,
                                 f"No {wanted} recorded within {window_days} days of the meeting")
    return ConcordanceResult(Concordance.PENDING, "")

