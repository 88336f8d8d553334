"""Charts drawn on the server as SVG: a 24-hour histogram and a 30-day timeline of firings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

__all__ = ["TimelineMark", "hour_chart", "timeline_chart"]

INK = "#1f4e79"
MATCH = "#2e7d32"
MISS = "#c62828"
GRID = "#d0d7de"


def hour_chart(counts: Sequence[float], *, title: str, width: int = 360, height: int = 120) -> Markup:
    """A bar per hour of the day (home time), labelled every 6 hours.

    Args:
        counts: 24 values, hour 0 first.
        title: what the bars count (read by screen readers).
        width: drawing width in px (the SVG scales to its box).
        height: drawing height in px.

    Raises:
        ValueError: not 24 values, or a negative one.
    """
    if len(counts) != 24:
        raise ValueError(f"an hour chart needs 24 values, got {len(counts)}")
    if any(c < 0 for c in counts):
        raise ValueError("an hour chart cannot show negative counts")
    top, bottom, left = 8, 18, 4
    plot_h = height - top - bottom
    slot = (width - 2 * left) / 24
    peak = max(counts) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="{GRID}"/>',
    ]
    for hour, value in enumerate(counts):
        bar_h = plot_h * value / peak
        x = left + hour * slot + 1
        y = top + plot_h - bar_h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 2:.1f}" height="{bar_h:.1f}" fill="{INK}">'
            f"<title>{hour:02d}:00 {value:g}</title></rect>"
        )
    for hour in (0, 6, 12, 18, 23):
        x = left + hour * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 4}" font-size="10" text-anchor="middle" fill="#444">'
            f"{hour:02d}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class TimelineMark:
    """One firing on the timeline: when (home time) and whether the home did the same by hand."""

    at: datetime
    matched: bool | None
    label: str = ""


def timeline_chart(
    marks: Sequence[TimelineMark], *, end: datetime, days: int = 30, title: str, width: int = 360, height: int = 70
) -> Markup:
    """Firings over the last `days` days ending at `end`: green matched by hand, red not, grey unknown.

    Each mark sits at its day (x) and time of day (y), so a routine shows as a horizontal band.
    """
    start = end - timedelta(days=days)
    left, right, top, bottom = 4, 4, 4, 16
    plot_w = width - left - right
    plot_h = height - top - bottom
    span = (end - start).total_seconds() or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{GRID}"/>',
    ]
    for mark in marks:
        offset = (mark.at - start).total_seconds()
        if offset < 0 or offset > span:
            continue
        x = left + plot_w * offset / span
        minute = mark.at.hour * 60 + mark.at.minute
        y = top + plot_h * minute / 1440
        colour = "#888" if mark.matched is None else (MATCH if mark.matched else MISS)
        hint = mark.label or mark.at.strftime("%Y-%m-%d %H:%M")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(hint)}</title></circle>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 3}" font-size="10" fill="#444">{escape(start.strftime("%d %b"))}</text>'
        f'<text x="{width - right}" y="{height - 3}" font-size="10" text-anchor="end" fill="#444">'
        f"{escape(end.strftime('%d %b'))}</text></svg>"
    )
    return Markup("".join(parts))
