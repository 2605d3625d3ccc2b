"""Server-side inline SVG bar charts for the program dashboard (no JavaScript, no inline styles: strict CSP).

A pure function: given labelled values, return SVG markup in which every text is escaped.  Each chart has a
<title> and <desc> (role="img", aria-labelledby) for screen readers, axis labels and the value at the end of
each bar; the page shows the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 560
LABEL_WIDTH = 190
VALUE_WIDTH = 56
BAR_HEIGHT = 20
GAP = 8
TOP = 26
AXIS_HEIGHT = 40


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, description: str, value_label: str,
              category_label: str, chart_id: str, unit: str = "", counts: bool = True) -> SafeString:
    """A horizontal bar chart: one bar per (label, value), value axis from 0 with ticks at 0, half and the
    max.  ``counts``: the values are whole numbers, so the ticks are too."""
    cid = "".join(ch for ch in chart_id if ch.isalnum() or ch in "-_") or "chart"
    plot_left = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    n = max(len(bars), 1)
    height = TOP + n * (BAR_HEIGHT + GAP) + AXIS_HEIGHT
    top_value = _nice_max(max((v for _, v in bars), default=0))
    if counts and top_value % 2:
        top_value *= 2  # 1 -> 2, 5 -> 10: the middle tick is a whole number
    axis_y = TOP + n * (BAR_HEIGHT + GAP)
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]
    for frac in (0, 0.5, 1):
        x = plot_left + plot_width * frac
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{axis_y}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">'
                     f'{escape(_fmt(top_value * frac))}</text>')
    if not bars:
        parts.append(f'<text class="empty" x="{plot_left + 8}" y="{TOP + BAR_HEIGHT - 5}">No data in this period</text>')
    for i, (label, value) in enumerate(bars):
        y = TOP + i * (BAR_HEIGHT + GAP)
        w = plot_width * (max(value, 0) / top_value)
        parts.append(f'<text class="label" x="{plot_left - 6}" y="{y + BAR_HEIGHT - 5}" text-anchor="end">'
                     f'{escape(label[:32])}</text>')
        parts.append(f'<rect class="bar" x="{plot_left}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}">'
                     f'<title>{escape(label)}: {escape(_fmt(value))}{escape(unit)}</title></rect>')
        parts.append(f'<text class="value" x="{plot_left + w + 4:.1f}" y="{y + BAR_HEIGHT - 5}">'
                     f'{escape(_fmt(value))}{escape(unit)}</text>')
    parts.append(f'<line class="axis" x1="{plot_left}" y1="{axis_y}" x2="{plot_left + plot_width}" y2="{axis_y}"/>')
    parts.append(f'<line class="axis" x1="{plot_left}" y1="{TOP}" x2="{plot_left}" y2="{axis_y}"/>')
    parts.append(f'<text class="axis-label" x="{plot_left + plot_width / 2:.1f}" y="{height - 4}" '
                 f'text-anchor="middle">{escape(value_label)}</text>')
    parts.append(f'<text class="axis-label" x="{plot_left - 6}" y="16" text-anchor="end">{escape(category_label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
