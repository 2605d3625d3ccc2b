"""Proxy-scope rules, invitation usability and the SVG chart (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.patients.models import ProxyScope
from oncoliaison.portal.charts import HEIGHT, PAD_BOTTOM, PAD_TOP, Band, Point, line_chart
from oncoliaison.portal.rules import ProxyAction, invitation_usable, proxy_scope_allows, proxy_scopes_allowing


@pytest.mark.parametrize(
    ("scope", "view", "report", "message"),
    [
        (ProxyScope.VIEW, True, False, False),
        (ProxyScope.REPORT, True, True, False),
        (ProxyScope.MESSAGE, True, True, True),
        ("", False, False, False),
        ("admin", False, False, False),
    ],
)
def test_each_scope_includes_the_ones_before(scope: str, view: bool, report: bool, message: bool) -> None:
    assert proxy_scope_allows(scope, ProxyAction.VIEW) is view
    assert proxy_scope_allows(scope, ProxyAction.REPORT) is report
    assert proxy_scope_allows(scope, ProxyAction.MESSAGE) is message


def test_scopes_allowing() -> None:
    assert proxy_scopes_allowing(ProxyAction.MESSAGE) == {ProxyScope.MESSAGE}
    assert proxy_scopes_allowing(ProxyAction.REPORT) == {ProxyScope.REPORT, ProxyScope.MESSAGE}
    assert proxy_scopes_allowing("delete") == frozenset()


def test_invitation_usable() -> None:
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    later = now + dt.timedelta(days=1)
    assert invitation_usable(expires_at=later, accepted_at=None, revoked_at=None, now=now) == ""
    assert invitation_usable(expires_at=now, accepted_at=None, revoked_at=None, now=now) == "expired"
    assert invitation_usable(expires_at=later, accepted_at=now, revoked_at=None, now=now) == "used"
    assert invitation_usable(expires_at=later, accepted_at=None, revoked_at=now, now=now) == "revoked"


def test_chart_is_accessible_and_escapes_text() -> None:
    pts = [Point(dt.date(2026, 5, 1), 2), Point(dt.date(2026, 5, 8), 7), Point(dt.date(2026, 5, 4), 5)]
    svg = line_chart(pts, title="Pain <script>", description="3 reports & more", chart_id="c1",
                     bands=[Band(7, 10, "band-severe")])
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    assert "<script>" not in svg and "Pain &lt;script&gt;" in svg and "3 reports &amp; more" in svg
    assert svg.count("<circle") == 3 and "<polyline" in svg
    assert "style=" not in svg  # strict CSP: no inline styles
    # Points are drawn oldest first: the polyline's x coordinates increase.
    xs = [float(p.split(",")[0]) for p in svg.split('points="')[1].split('"')[0].split()]
    assert xs == sorted(xs)


def test_chart_single_point_and_empty() -> None:
    one = line_chart([Point(dt.date(2026, 5, 1), 4)], title="T", description="D")
    assert one.count("<circle") == 1 and "<polyline" not in one
    empty = line_chart([], title="T", description="D")
    assert "<circle" not in empty
    with pytest.raises(ValueError):
        line_chart([], title="T", description="D", y_min=5, y_max=5)


def test_chart_clamps_out_of_range_values() -> None:
    svg = line_chart([Point(dt.date(2026, 5, 1), -3), Point(dt.date(2026, 5, 2), 99)], title="T", description="D")
    for cy in [float(c.split('cy="')[1].split('"')[0]) for c in svg.split("<circle")[1:]]:
        assert PAD_TOP <= cy <= HEIGHT - PAD_BOTTOM
