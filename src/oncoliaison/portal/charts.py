"""Server-side inline SVG line charts for the portal (no JavaScript, no inline styles: strict CSP).

Pure functions: given points, return SVG markup in which every text is escaped.  Each chart carries a
<title> and <desc> for screen readers; pages also show the same numbers as a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import dateformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 360, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 34, 12, 12, 30


@dataclass(frozen=True)
class Point:
    when: dt.date | dt.datetime
    value: float


@dataclass(frozen=True)
class Band:
    """A shaded range of the value axis (e.g. severe: 7-10)."""

    low: float
    high: float
    css_class: str


def _day(when: dt.date | dt.datetime) -> float:
    if isinstance(when, dt.datetime):
        return when.timestamp() / 86400
    return dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC).timestamp() / 86400


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    description: str,
    y_min: float = 0,
    y_max: float = 10,
    y_ticks: Sequence[float] = (0, 5, 10),
    bands: Sequence[Band] = (),
    date_format: str = "j M",
    chart_id: str = "chart",
) -> SafeString:
    """An accessible SVG line chart of ``points`` (oldest first) on a fixed value axis."""
    if y_max <= y_min:
        raise ValueError("y_max must be above y_min")
    cid = "".join(ch for ch in chart_id if ch.isalnum() or ch in "-_") or "chart"
    pts = sorted(points, key=lambda p: _day(p.when))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y_of(v: float) -> float:
        v = min(max(v, y_min), y_max)
        return PAD_TOP + plot_h * (1 - (v - y_min) / (y_max - y_min))

    if pts:
        first, last = _day(pts[0].when), _day(pts[-1].when)
        span = last - first

        def x_of(when: dt.date | dt.datetime) -> float:
            if span <= 0:
                return PAD_LEFT + plot_w / 2
            return PAD_LEFT + plot_w * (_day(when) - first) / span
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{cid}-t {cid}-d" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<desc id="{cid}-d">{escape(description)}</desc>',
    ]
    for band in bands:
        top, bottom = y_of(band.high), y_of(band.low)
        parts.append(
            f'<rect class="{escape(band.css_class)}" x="{PAD_LEFT}" y="{top:.1f}" width="{plot_w}" '
            f'height="{bottom - top:.1f}"/>'
        )
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{PAD_LEFT - 8}" y="{y + 5:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    if pts:
        coords = [(x_of(p.when), y_of(p.value)) for p in pts]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline class="line" points="{path}"/>')
        for (x, y), p in zip(coords, pts, strict=True):
            label = f"{dateformat.format(p.when, date_format)}: {_fmt(p.value)}"
            parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="5"><title>{escape(label)}</title></circle>')
        labels = [pts[0]] if len(pts) == 1 else [pts[0], pts[-1]]
        for p in labels:
            anchor = "start" if p is pts[0] and len(pts) > 1 else ("end" if len(pts) > 1 else "middle")
            parts.append(
                f'<text class="tick" x="{x_of(p.when):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{escape(dateformat.format(p.when, date_format))}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text above is escaped
