"""Small server-side SVG charts (no JavaScript: the Content-Security-Policy forbids inline scripts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0b5c86", "#b3261e", "#2e7d32", "#8a5a00", "#6a1b9a", "#00695c", "#c2185b", "#37474f", "#5d4037")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[dt.datetime, int | None]]


def line_chart(series: Sequence[Series], *, y_max: int, title: str, width: int = 720, height: int = 240,
               threshold: int | None = None, threshold_label: str = "") -> SafeString:
    """An accessible line chart: <svg role="img"> with a title and a text description of every value."""
    left, right, top, bottom = 40, 150, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    times = [t for s in series for t, v in s.points if v is not None]
    if not times:
        return format_html('<p class="muted">{}</p>', "No scores to chart yet.")
    t0, t1 = min(times), max(times)
    span = max((t1 - t0).total_seconds(), 1.0)

    def x(t: dt.datetime) -> float:
        return left + (plot_w * (t - t0).total_seconds() / span if t1 != t0 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    parts: list[str] = []
    step = 1 if y_max <= 10 else 10 if y_max <= 100 else 20
    for v in range(0, y_max + 1, step if y_max > 10 else 2):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e3e7ec"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#555">{v}</text>')
    if threshold is not None:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
                     f'stroke="#b3261e" stroke-dasharray="4 3"/>'
                     f'<text x="{left + plot_w + 4}" y="{y(threshold) + 4:.1f}" font-size="11" fill="#b3261e">'
                     f'{escape(threshold_label)}</text>')
    parts.append(f'<text x="{left}" y="{height - 8}" font-size="11" fill="#555">{t0:%d %b}</text>'
                 f'<text x="{left + plot_w}" y="{height - 8}" font-size="11" fill="#555" text-anchor="end">'
                 f'{t1:%d %b}</text>')
    desc: list[str] = []
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        pts = [(x(t), y(v), t, v) for t, v in s.points if v is not None]
        if not pts:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for px, py, t, v in pts:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(s.label)} {t:%d %b}: {v}</title></circle>')
        ly = top + 14 * n + 8
        parts.append(f'<rect x="{left + plot_w + 10}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + plot_w + 24}" y="{ly + 1}" font-size="11" fill="#222">{escape(s.label)}</text>')
        desc.append(f"{s.label}: " + ", ".join(f"{t:%d %b} {v}" for _, _, t, v in pts))
    svg = (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{_id(title)}-t {_id(title)}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{_id(title)}-t">{escape(title)}</title><desc id="{_id(title)}-d">{escape("; ".join(desc))}</desc>'
        + "".join(parts) + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every text value above is escaped


def _id(text: str) -> str:
    return "c-" + "".join(ch for ch in text.lower() if ch.isalnum())[:30]
