"""Pure rules of tumor boards: transitions, recurrence, concordance with the record."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.tumorboards import rules
from oncoliaison.tumorboards.models import CaseStatus, Concordance, MeetingStatus

UTC = dt.UTC


def test_case_transitions_are_data_and_errors_are_sentences() -> None:
    assert rules.case_transition_error(CaseStatus.SUBMITTED, CaseStatus.ACCEPTED) is None
    assert rules.case_transition_error(CaseStatus.DEFERRED, CaseStatus.ACCEPTED) is None
    assert {CaseStatus.DECLINED, CaseStatus.DISCUSSED} == rules.CASE_TERMINAL
    assert rules.case_transition_error(CaseStatus.DISCUSSED, CaseStatus.ACCEPTED) == \
        "The case is already discussed; it cannot be changed."
    assert "it can become: on the agenda, deferred, declined" in str(
        rules.case_transition_error(CaseStatus.SUBMITTED, CaseStatus.DISCUSSED))
    assert rules.meeting_transition_error(MeetingStatus.HELD, MeetingStatus.CANCELLED) == \
        "The meeting is already held; it cannot be changed."
    assert rules.meeting_transition_error(MeetingStatus.IN_PROGRESS, MeetingStatus.CANCELLED) is not None


def test_weekly_and_every_other_week() -> None:
    first = dt.datetime(2026, 1, 6, 7, 30, tzinfo=UTC)  # a Tuesday
    assert rules.occurrences(first, "weekly", 3)[-1] == dt.datetime(2026, 1, 20, 7, 30, tzinfo=UTC)
    assert rules.occurrences(first, "biweekly", 3)[-1] == dt.datetime(2026, 2, 3, 7, 30, tzinfo=UTC)


def test_monthly_keeps_the_weekday_of_the_month() -> None:
    second_tuesday = dt.datetime(2026, 1, 13, 12, 0, tzinfo=UTC)
    days = [d.date() for d in rules.occurrences(second_tuesday, "monthly", 4)]
    assert days == [dt.date(2026, 1, 13), dt.date(2026, 2, 10), dt.date(2026, 3, 10), dt.date(2026, 4, 14)]
    assert all(d.weekday() == 1 for d in days)
    fifth_thursday = dt.datetime(2026, 1, 29, 12, 0, tzinfo=UTC)  # February 2026 has four Thursdays
    assert rules.occurrences(fifth_thursday, "monthly", 2)[1].date() == dt.date(2026, 2, 26)
    with pytest.raises(ValueError):
        rules.occurrences(second_tuesday, "yearly", 2)


MEETING = dt.date(2026, 3, 2)


def _t(kind: str, day: dt.date | None, label: str = "x") -> rules.Treatment:
    return rules.Treatment(kind=kind, started=day, label=label)


def test_concordance_followed_within_the_window() -> None:
    r = rules.concordance("systemic", meeting_day=MEETING, today=dt.date(2026, 4, 1),
                          treatments=[_t("medication", dt.date(2026, 3, 20), "Paclitaxel")])
    assert r.value == Concordance.FOLLOWED and r.evidence == "Paclitaxel started 2026-03-20"


def test_concordance_ignores_treatment_before_the_meeting_and_waits_for_the_window() -> None:
    before = [_t("surgery", dt.date(2026, 2, 1))]
    assert rules.concordance("surgery", meeting_day=MEETING, today=dt.date(2026, 5, 1),
                             treatments=before).value == Concordance.PENDING
    late = rules.concordance("surgery", meeting_day=MEETING, today=MEETING + dt.timedelta(days=181),
                             treatments=before)
    assert late.value == Concordance.NOT_FOLLOWED and "180 days" in late.evidence
    edge = rules.concordance("radiation", meeting_day=MEETING, today=MEETING + dt.timedelta(days=200),
                             treatments=[_t("radiotherapy", MEETING + dt.timedelta(days=180))])
    assert edge.value == Concordance.FOLLOWED


def test_kinds_the_record_cannot_tell() -> None:
    for kind in ("workup", "surveillance", "supportive", "genetics", "trial", "second_opinion"):
        assert rules.concordance(kind, meeting_day=MEETING, today=MEETING, treatments=[]).value == \
            Concordance.NOT_APPLICABLE
