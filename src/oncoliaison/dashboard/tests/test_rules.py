"""Pure rules of the dashboard: percentiles, the reporting period and the distress-screening definition."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.dashboard import rules
from oncoliaison.dashboard.charts import bar_chart
from oncoliaison.referrals.rules import median, percentile

D = dt.date


# Nearest-rank percentile (NIST/Wikipedia "Percentile", nearest-rank method): rank = ceil(p/100 * n).
@pytest.mark.parametrize(("values", "p", "expected"), [
    ([15, 20, 35, 40, 50], 30, 20),
    ([15, 20, 35, 40, 50], 40, 20),
    ([15, 20, 35, 40, 50], 50, 35),
    ([15, 20, 35, 40, 50], 100, 50),
    ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 25, 7),
    ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 50, 8),
    ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 75, 15),
    ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 90, 16),
    ([20, 3, 16, 6, 15, 7, 13, 8, 10, 8], 90, 16),  # order does not matter
    ([4.5], 90, 4.5),
    ([1, 2], 90, 2),
])
def test_percentile_nearest_rank(values, p, expected):
    assert percentile(values, p) == expected


def test_percentile_of_nothing_is_none_and_p_is_checked():
    assert percentile([], 90) is None
    with pytest.raises(ValueError):
        percentile([1], 0)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_median_and_p90_of_the_same_intervals():
    days = [1.0, 2.0, 2.0, 3.0, 30.0]
    assert median(days) == 2.0
    assert percentile(days, 90) == 30.0


def test_default_period_is_the_last_twelve_months():
    p = rules.default_period(D(2026, 11, 23))
    assert (p.first, p.last) == (D(2025, 11, 24), D(2026, 11, 23))
    assert p.days == 365
    leap = rules.default_period(D(2028, 2, 29))
    assert (leap.first, leap.last) == (D(2027, 3, 1), D(2028, 2, 29))


def test_period_errors():
    assert rules.period_error(D(2026, 1, 1), D(2026, 1, 1)) is None
    assert "before" in (rules.period_error(D(2026, 2, 1), D(2026, 1, 1)) or "")
    assert "five years" in (rules.period_error(D(2010, 1, 1), D(2026, 1, 1)) or "")


def test_month_keys_cover_every_month_touched():
    assert rules.month_keys(rules.Period(D(2025, 11, 24), D(2026, 2, 3))) == [
        "2025-11", "2025-12", "2026-01", "2026-02"]
    assert rules.month_keys(rules.Period(D(2026, 5, 1), D(2026, 5, 31))) == ["2026-05"]


PERIOD = rules.Period(D(2026, 1, 1), D(2026, 6, 30))


FEB_1 = D(2026, 2, 1)


def ep(pid, status="active", start=FEB_1, end=None):  # type: ignore[no-untyped-def]
    return rules.EpisodeFacts(pid, status, start, end)


def test_screening_rate_definition():
    episodes = [
        ep(1),                                               # screened in the episode
        ep(2),                                               # screened before enrolment only: not screened
        ep(3, "finished", D(2025, 10, 1), D(2026, 1, 15)),   # finished in the period, screened while open
        ep(4, "cancelled"),                                  # cancelled: not counted at all
        ep(5, "finished", D(2025, 1, 1), D(2025, 12, 31)),   # ended before the period: not counted
        ep(6, "planned", D(2026, 7, 1)),                     # starts after the period: not counted
        ep(7, "onhold"),                                     # never screened
        ep(8, "finished", D(2025, 10, 1), D(2026, 1, 15)),   # screened after the episode ended: not screened
    ]
    screens = {
        1: [D(2026, 3, 2)],
        2: [D(2026, 1, 10)],
        3: [D(2025, 10, 20)],
        4: [D(2026, 3, 1)],
        5: [D(2025, 6, 1)],
        8: [D(2026, 2, 1)],
    }
    result = rules.screening_rate(episodes, screens, PERIOD)
    assert (result.eligible, result.screened, result.not_screened) == (5, 2, 3)
    assert result.rate == pytest.approx(0.4)


def test_screening_rate_counts_a_patient_once_and_is_none_without_patients():
    episodes = [ep(1, "finished", D(2026, 1, 2), D(2026, 2, 1)), ep(1, "active", D(2026, 3, 1))]
    assert rules.screening_rate(episodes, {1: [D(2026, 3, 5)]}, PERIOD) == rules.ScreeningRate(1, 1)
    assert rules.screening_rate([], {}, PERIOD).rate is None


def test_bar_chart_is_accessible_and_escapes_text():
    svg = str(bar_chart([("<b>Web</b>", 3), ("Friend", 1.5)], title="Referrals & sources", description="desc",
                        value_label="Referrals", category_label="Source", chart_id="c1"))
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert "<title id=\"c1-title\">Referrals &amp; sources</title>" in svg
    assert "<b>" not in svg and "&lt;b&gt;Web&lt;/b&gt;" in svg
    assert ">Referrals</text>" in svg and ">Source</text>" in svg and ">1.5</text>" in svg
    assert "style=" not in svg
    assert "No data in this period" in str(bar_chart([], title="t", description="d", value_label="v",
                                                     category_label="c", chart_id="c2"))


def test_bar_chart_ticks_of_counts_are_whole_numbers():
    svg = str(bar_chart([("a", 1)], title="t", description="d", value_label="v", category_label="c", chart_id="c"))
    assert ">0.5</text>" not in svg and ">1</text>" in svg and ">2</text>" in svg
    svg = str(bar_chart([("a", 0.4)], title="t", description="d", value_label="v", category_label="c",
                        chart_id="c", counts=False))
    assert ">0.25</text>" in svg and ">0.5</text>" in svg and ">0.4</text>" in svg
