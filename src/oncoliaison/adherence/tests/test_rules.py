"""PDC (PQA), MPR and the regimen-aware rule.

Vectors are derived from the rules in ../shared/specs/instruments.md §7 (PQA PDC specification and PQA's
public test cases pdc-dr.js / pdc-sta.js: a 90-day fill on 2018-01-01 followed by a fill on 2018-03-25 gives
the second fill a first dose of 2018-04-01; supply past the period is cut at 2018-12-31).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from oncoliaison.adherence.rules import Cycle, Fill, adherence, calendar_year_period, percent

D = dt.date
Y2018 = {"period_start": D(2018, 1, 1), "period_end": D(2018, 12, 31)}


def test_pqa_case_early_refill_is_shifted_to_the_day_after_the_previous_supply_ends():
    result = adherence([Fill(D(2018, 1, 1), 90), Fill(D(2018, 3, 25), 90)], **Y2018)
    assert result.fills[1].first == D(2018, 4, 1)
    assert result.fills[1].last == D(2018, 6, 29)
    assert result.covered_days == 180
    assert result.denominator_days == 365
    assert result.pdc == Fraction(180, 365)


def test_supply_past_the_period_end_is_truncated():
    # PQA case: the last dose is shown as 2018-12-31.
    result = adherence([Fill(D(2018, 10, 1), 30), Fill(D(2018, 12, 15), 90)], **Y2018)
    assert result.fills[1].last == D(2018, 12, 31)
    assert result.index_date == D(2018, 10, 1)
    assert result.denominator_days == 92  # 1 October .. 31 December
    assert result.covered_days == 30 + 17
    assert result.supply_days == 120  # MPR's numerator is not truncated
    assert result.mpr == Fraction(120, 92)


def test_a_shift_beyond_the_period_end_covers_nothing_in_the_period():
    result = adherence([Fill(D(2018, 12, 1), 60), Fill(D(2018, 12, 20), 30)], **Y2018)
    assert result.fills[1].first is None and result.fills[1].last is None
    assert result.covered_days == 31 and result.denominator_days == 31
    assert result.pdc == 1


def test_index_date_is_the_first_fill_in_the_period_and_earlier_fills_do_not_count():
    result = adherence([Fill(D(2017, 12, 20), 30), Fill(D(2018, 3, 1), 30), Fill(D(2018, 4, 1), 30)], **Y2018)
    assert result.index_date == D(2018, 3, 1)
    assert result.denominator_days == (D(2018, 12, 31) - D(2018, 3, 1)).days + 1
    assert result.fill_dates == 2
    assert result.covered_days == 60


def test_pdc_never_exceeds_one_while_mpr_does():
    fills = [Fill(D(2018, 11, 1), 30), Fill(D(2018, 11, 10), 30), Fill(D(2018, 11, 20), 30)]
    result = adherence(fills, **Y2018)
    assert result.denominator_days == 61
    assert result.covered_days == 61
    assert result.pdc == 1
    assert result.mpr == Fraction(90, 61)


def test_a_gap_is_uncovered():
    result = adherence([Fill(D(2018, 1, 1), 30), Fill(D(2018, 3, 2), 30)], period_start=D(2018, 1, 1),
                       period_end=D(2018, 3, 31))
    assert result.covered_days == 60 and result.denominator_days == 90
    assert result.adherent is False


def test_a_single_fill_is_not_in_the_denominator():
    result = adherence([Fill(D(2018, 5, 1), 90)], **Y2018)
    assert not result.in_denominator
    assert result.adherent is None and not result.below_threshold
    assert "two different dates" in result.reason


def test_two_fills_on_the_same_day_count_once_toward_two_fills_but_both_supplies_count():
    result = adherence([Fill(D(2018, 6, 1), 30), Fill(D(2018, 6, 1), 30)], **Y2018)
    assert result.fill_dates == 1
    assert not result.in_denominator
    assert result.fills[1].first == D(2018, 7, 1)  # the second overlaps entirely: it follows the first
    assert result.covered_days == 60
    third = adherence([Fill(D(2018, 6, 1), 30), Fill(D(2018, 6, 1), 30), Fill(D(2018, 7, 15), 30)], **Y2018)
    assert third.fill_dates == 2 and third.in_denominator


def test_no_fill_in_the_period():
    result = adherence([Fill(D(2017, 6, 1), 30)], **Y2018)
    assert result.index_date is None and not result.in_denominator and result.pdc is None and result.mpr is None


@pytest.mark.parametrize(("covered", "adherent"), [(80, True), (79, False), (81, True)])
def test_adherent_at_exactly_80_percent(covered, adherent):
    # 100 days in the treatment period: two fills covering ``covered`` days, then nothing.
    fills = [Fill(D(2018, 1, 1), covered - 10), Fill(D(2018, 1, 1) + dt.timedelta(days=covered - 10), 10)]
    result = adherence(fills, period_start=D(2018, 1, 1), period_end=D(2018, 4, 10))
    assert result.denominator_days == 100
    assert result.covered_days == covered
    assert result.adherent is adherent


def test_the_comparison_with_80_percent_is_exact():
    # 292 of 365 days is exactly 80 %: adherent; 291 of 365 (79.7 %) is not.
    for second_supply, adherent in ((191, False), (192, True)):
        fills = [Fill(D(2018, 1, 1), 100), Fill(D(2018, 4, 11), second_supply)]
        result = adherence(fills, **Y2018)
        assert result.pdc == Fraction(100 + second_supply, 365)
        assert result.adherent is adherent
    assert percent(Fraction(291, 365)) == "79.7 %" and percent(None) == "—"


def test_cycle_off_days_are_not_days_of_the_measure():
    # Capecitabine-like 14 days on, 7 off from 1 March; one 14-dosing-day fill per cycle, each on day 1.
    cycle = Cycle(D(2018, 3, 1), 14, 7)
    fills = [Fill(D(2018, 3, 1) + dt.timedelta(days=21 * k), 14) for k in range(4)]
    result = adherence(fills, period_start=D(2018, 1, 1), period_end=D(2018, 5, 23), cycle=cycle)
    # 1 March .. 23 May is 84 days = 4 cycles of 21: 56 dosing days, all taken.
    assert result.denominator_days == 56
    assert result.covered_days == 56
    assert result.pdc == 1
    daily = adherence(fills, period_start=D(2018, 1, 1), period_end=D(2018, 5, 23))
    assert daily.pdc == Fraction(56, 84)  # without the regimen the off days would look uncovered


def test_cycle_a_missed_cycle_lowers_pdc_by_its_dosing_days_only():
    cycle = Cycle(D(2018, 3, 1), 14, 7)
    fills = [Fill(D(2018, 3, 1), 14), Fill(D(2018, 3, 22), 14), Fill(D(2018, 5, 3), 14)]  # the third cycle missed
    result = adherence(fills, period_start=D(2018, 1, 1), period_end=D(2018, 5, 23), cycle=cycle)
    assert (result.covered_days, result.denominator_days) == (42, 56)
    assert result.pdc == Fraction(3, 4) and result.adherent is False


def test_cycle_a_fill_collected_during_the_break_starts_on_the_next_dosing_day():
    cycle = Cycle(D(2018, 3, 1), 21, 7)  # 21 of 28 days
    fills = [Fill(D(2018, 3, 1), 21), Fill(D(2018, 3, 25), 21)]  # collected on day 25, an off day
    result = adherence(fills, period_start=D(2018, 1, 1), period_end=D(2018, 4, 25), cycle=cycle)
    assert result.fills[1].first == D(2018, 3, 25)
    assert result.fills[1].last == D(2018, 4, 18)  # day 1 of cycle 2 is 29 March; 21 dosing days to 18 April
    assert (result.covered_days, result.denominator_days) == (42, 42)


def test_cycle_an_early_refill_is_shifted_by_dosing_days_and_truncated():
    cycle = Cycle(D(2018, 12, 1), 14, 7)
    fills = [Fill(D(2018, 12, 1), 14), Fill(D(2018, 12, 10), 14)]  # second fill early, mid-cycle
    result = adherence(fills, **Y2018, cycle=cycle)
    assert result.fills[1].first == D(2018, 12, 15)  # the day after the first supply's last dosing day
    assert result.fills[1].last == D(2018, 12, 31)  # cycle 2 starts 22 December: dosing days to 31 Dec
    assert (result.covered_days, result.denominator_days) == (24, 24)


def test_days_before_the_cycle_starts_are_daily():
    cycle = Cycle(D(2018, 3, 1), 14, 7)
    assert cycle.is_dosing_day(D(2018, 2, 20))
    assert not cycle.is_dosing_day(D(2018, 3, 15)) and cycle.is_dosing_day(D(2018, 3, 22))
    assert Cycle(D(2018, 3, 1), 28, 0).is_dosing_day(D(2018, 3, 30))


def test_calendar_year_periods():
    assert calendar_year_period(2025, today=D(2026, 3, 5)) == (D(2025, 1, 1), D(2025, 12, 31))
    assert calendar_year_period(2026, today=D(2026, 3, 5)) == (D(2026, 1, 1), D(2026, 3, 5))
    assert calendar_year_period(2027, today=D(2026, 3, 5)) is None


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        adherence([], period_start=D(2018, 2, 1), period_end=D(2018, 1, 1))


def test_a_huge_supply_is_cut_at_the_period_end_without_walking_past_it():
    huge = 2_000_000_000
    for cycle in (None, Cycle(D(2018, 1, 1), 14, 7)):
        result = adherence([Fill(D(2018, 1, 1), huge), Fill(D(2018, 2, 1), huge)], **Y2018, cycle=cycle)
        assert result.covered_days == result.denominator_days
        assert result.fills[1].first is None
