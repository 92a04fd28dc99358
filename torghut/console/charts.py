"""Small inline SVG charts for the operator page, drawn on the server: no JavaScript, no CDN, no files.

Each builder takes plain numbers (already computed by a selector) and returns SVG markup. Every text
that reaches the markup is escaped; the page marks the result safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH, HEIGHT, PAD = 560, 150, 34
STATE_COLOURS = {"active": "#2da44e", "reducing": "#d4a72c", "halted": "#cf222e"}


def _frame(title: str, body: str, *, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}"><title>{escape(title)}</title>{body}</svg>'
    )


def _empty(title: str, message: str) -> str:
    return _frame(title, f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#57606a">{escape(message)}</text>')


def _scale(values: Sequence[float], *, floor: float = 0.0) -> float:
    top = max([floor, *values])
    return top if top > 0 else 1.0


def series_chart(*, title: str, points: Sequence[tuple[datetime, float]], unit: str, limit: float | None = None, bars: bool = False) -> str:
    """A time series (oldest first) as a line, or as bars; `limit` draws a dashed red line at that level."""
    points = [(at, float(v)) for at, v in points if v is not None]
    if not points:
        return _empty(title, "no data yet")
    top = _scale([v for _, v in points], floor=(limit or 0.0) * 1.1)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = plot_w / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return PAD + plot_h - value / top * plot_h

    parts = [f'<line x1="{PAD}" y1="{PAD + plot_h}" x2="{WIDTH - PAD}" y2="{PAD + plot_h}" stroke="#8c959f"/>']
    if bars:
        width = max(plot_w / len(points) - 1, 1)
        for i, (_, value) in enumerate(points):
            x = PAD + i * plot_w / len(points)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y(value):.1f}" width="{width:.1f}" height="{PAD + plot_h - y(value):.1f}" fill="#0969da"/>'
            )
    else:
        path = " ".join(f"{PAD + i * step:.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        parts.append(f'<polyline class="series" points="{path}" fill="none" stroke="#0969da" stroke-width="1.5"/>')
    if limit is not None:
        parts.append(
            f'<line class="limit" x1="{PAD}" y1="{y(limit):.1f}" x2="{WIDTH - PAD}" y2="{y(limit):.1f}" stroke="#cf222e" stroke-dasharray="4 3"/>'
            f'<text x="{WIDTH - PAD}" y="{y(limit) - 3:.1f}" text-anchor="end" fill="#cf222e" font-size="10">limit {limit:g} {escape(unit)}</text>'
        )
    first, last = points[0][0], points[-1][0]
    parts.append(
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="10" fill="#57606a">{first:%H:%M:%S}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" text-anchor="end" font-size="10" fill="#57606a">{last:%H:%M:%S} UTC</text>'
        f'<text x="{PAD}" y="{PAD - 8}" font-size="10" fill="#57606a">max {top:g} {escape(unit)}, now {points[-1][1]:g}</text>'
    )
    return _frame(title, "".join(parts))


def gauge_chart(*, title: str, value: float | None, limit: float, unit: str = "") -> str:
    """One value as a horizontal bar against its limit (the bar turns red at or over the limit)."""
    if value is None:
        return _empty(title, "unbounded or not readable")
    height = 60
    top = max(value, limit) * 1.25 or 1.0
    plot_w = WIDTH - 2 * PAD
    colour = "#cf222e" if value >= limit else "#2da44e"
    bar = max(value, 0.0) / top * plot_w
    mark = PAD + limit / top * plot_w
    body = (
        f'<rect x="{PAD}" y="14" width="{plot_w}" height="18" fill="#eaeef2"/>'
        f'<rect class="value" x="{PAD}" y="14" width="{bar:.1f}" height="18" fill="{colour}"/>'
        f'<line class="limit" x1="{mark:.1f}" y1="8" x2="{mark:.1f}" y2="38" stroke="#cf222e" stroke-width="2"/>'
        f'<text x="{PAD}" y="52" font-size="11" fill="#1b1f24">{value:.4g} {escape(unit)} of limit {limit:g} {escape(unit)}</text>'
    )
    return _frame(title, body, height=height)


def timeline_chart(*, title: str, transitions: Sequence[dict], start: datetime, end: datetime, initial: str) -> str:
    """The kill switch's state over [start, end] as coloured bands, from its transitions (oldest first)."""
    height = 70
    plot_w = WIDTH - 2 * PAD
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return PAD + min(max((at - start).total_seconds() / span, 0.0), 1.0) * plot_w

    bands, state, since = [], initial, start
    for row in transitions:
        if row["at"] > since:
            bands.append((since, row["at"], state))
        state, since = row["to_state"], max(row["at"], start)
    bands.append((since, end, state))
    parts = [
        f'<rect class="band {escape(s)}" x="{x(a):.1f}" y="12" width="{max(x(b) - x(a), 1):.1f}" height="22" '
        f'fill="{STATE_COLOURS.get(s, "#8c959f")}"><title>{escape(s)} from {a:%H:%M:%S}</title></rect>'
        for a, b, s in bands
    ]
    parts.append(
        f'<text x="{PAD}" y="50" font-size="10" fill="#57606a">{start:%m-%d %H:%M}</text>'
        f'<text x="{WIDTH - PAD}" y="50" text-anchor="end" font-size="10" fill="#57606a">{end:%m-%d %H:%M} UTC</text>'
        f'<text x="{PAD}" y="64" font-size="10" fill="#57606a">{len(transitions)} transitions; now {escape(state)}</text>'
    )
    return _frame(title, "".join(parts), height=height)
