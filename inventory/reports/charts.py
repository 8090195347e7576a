"""Charts drawn on the server as SVG markup: no script, no style attribute (the pages' CSP
forbids inline styles), only presentation attributes. Every chart has a role, a title and a
description, and the page next to it gives the same data as a table or a text."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from inventory.reports.dashboard import MapPoint, SocleState

INK = "#161616"
MUTED = "#555555"
GRID = "#c7c7c7"
BAR = "#000091"


def _num(value: float) -> str:
    """A coordinate: short and locale-free."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 2.5 or 5 × 10^n) at or above ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


@dataclass(frozen=True)
class Bar:
    label: str  # shown under the axis (may be empty to thin out the labels)
    value: float
    tooltip: str


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    desc: str,
    tick: Callable[[float], str],
    width: int = 720,
    height: int = 240,
    color: str = BAR,
) -> Markup:
    """A vertical bar chart of one series, e.g. per month."""
    left, right, top, bottom = 64, 12, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((b.value for b in bars), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" font-size="11" '
            f'fill="{MUTED}">{escape(tick(value))}</text>'
        )
    n = max(len(bars), 1)
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    for i, b in enumerate(bars):
        h = plot_h * b.value / top_value if top_value else 0
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar_w)}" height="{_num(h)}" '
            f'fill="{color}"><title>{escape(b.tooltip)}</title></rect>'
        )
        if b.label:
            cx = x + bar_w / 2
            parts.append(
                f'<text x="{_num(cx)}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="{INK}">{escape(b.label)}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def month_labels(months: Sequence[str], locale_month: Callable[[str], str]) -> list[str]:
    """Labels under a monthly axis: every month when few, else Januaries and the first one."""
    if len(months) <= 12:
        return [locale_month(m) for m in months]
    step = 3 if len(months) <= 36 else 6
    return [
        locale_month(m) if i == 0 or int(m[5:7]) % step == 1 else "" for i, m in enumerate(months)
    ]


# -- the map -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marker:
    """How a socle state is drawn: its shape tells it apart without colour."""

    radius: float
    fill: str
    stroke: str
    stroke_width: float


MARKERS: dict[SocleState, Marker] = {
    SocleState.COMPLETE: Marker(5.5, "#18753c", "#ffffff", 1),
    SocleState.PARTIAL: Marker(5.5, "url(#socle-hatch)", "#8a4b00", 1.5),
    SocleState.NONE: Marker(4.5, "#ffffff", "#ce0500", 2.5),
    SocleState.NO_TARGET: Marker(3, "#666666", "#ffffff", 0.5),
}
HATCH = (
    '<pattern id="socle-hatch" patternUnits="userSpaceOnUse" width="4" height="4" '
    'patternTransform="rotate(45)"><rect width="4" height="4" fill="#ffe9cc"/>'
    '<rect width="2" height="4" fill="#8a4b00"/></pattern>'
)


def marker_svg(state: SocleState, size: int = 16) -> Markup:
    """The legend's sample of a marker (decorative: the legend's text says it)."""
    m = MARKERS[state]
    c = size / 2
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" aria-hidden="true" focusable="false">'
        f"<defs>{HATCH.replace('socle-hatch', f'socle-hatch-{state.value}')}</defs>"
        f'<circle cx="{c}" cy="{c}" r="{m.radius + 1}" '
        f'fill="{m.fill.replace("socle-hatch", f"socle-hatch-{state.value}")}" '
        f'stroke="{m.stroke}" stroke-width="{m.stroke_width}"/></svg>'
    )


def school_map(
    points: Sequence[MapPoint],
    *,
    title: str,
    desc: str,
    tooltip: Callable[[MapPoint], str],
    width: int = 640,
    height: int = 480,
) -> Markup:
    """Schools as points on an equirectangular projection fitted to their bounding box."""
    pad = 16
    lats = [p.latitude for p in points]
    lons = [p.longitude for p in points]
    lat0 = (min(lats) + max(lats)) / 2 if points else 0
    k = math.cos(math.radians(lat0))
    xs = [lon * k for lon in lons]
    span_x = (max(xs) - min(xs)) if points else 0
    span_y = (max(lats) - min(lats)) if points else 0
    scale = min(
        (width - 2 * pad) / span_x if span_x else math.inf,
        (height - 2 * pad) / span_y if span_y else math.inf,
    )
    if scale is math.inf:
        scale = 1
    used_w, used_h = span_x * scale, span_y * scale
    off_x = pad + (width - 2 * pad - used_w) / 2
    off_y = pad + (height - 2 * pad - used_h) / 2
    min_x = min(xs) if points else 0
    max_lat = max(lats) if points else 0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="school-map" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        'aria-labelledby="school-map-title school-map-desc">',
        f'<title id="school-map-title">{escape(title)}</title>',
        f'<desc id="school-map-desc">{escape(desc)}</desc>',
        f"<defs>{HATCH}</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f3f3f8" stroke="{GRID}"/>',
    ]
    # Draw the complete ones last: they are the goal, and the others stay visible beneath.
    order = {SocleState.NO_TARGET: 0, SocleState.NONE: 1, SocleState.PARTIAL: 2}
    for p in sorted(points, key=lambda p: order.get(p.state, 3)):
        m = MARKERS[p.state]
        x = off_x + (p.longitude * k - min_x) * scale
        y = off_y + (max_lat - p.latitude) * scale
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{m.radius}" fill="{m.fill}" '
            f'stroke="{m.stroke}" stroke-width="{m.stroke_width}">'
            f"<title>{escape(tooltip(p))}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
