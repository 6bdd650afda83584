"""Small server-rendered SVG charts for the admin dashboard: no JavaScript, no chart library,
nothing the admin's CSP has to allow. Each chart is an ``<svg role="img">`` with a title and
description; the page shows the same numbers in a table beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 32
# Distinguishable for the common colour-vision deficiencies (Okabe-Ito), each with its own
# dash pattern so colour is never the only cue.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")


@dataclasses.dataclass(frozen=True)
class Series:
    label: str
    points: tuple[float | None, ...]  # one per day; None: no data that day (a gap)


def line_chart(
    chart_id: str,
    title: str,
    days: Sequence[dt.date],
    series: Sequence[Series],
    *,
    percent: bool = True,
    description: str = "",
) -> str:
    """Lines over days; values are shares (0..1) when ``percent``, counts otherwise."""
    top = 1.0 if percent else _nice_max(v for s in series for v in s.points if v is not None)
    parts = [_frame(chart_id, title, description), *_axes(days, top, percent)]
    for index, one in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        for run in _runs(one.points):
            points = " ".join(f"{_x(i, len(days)):.1f},{_y(value, top):.1f}" for i, value in run)
            style = f' stroke-dasharray="{dash}"' if dash else ""
            if len(run) == 1:
                i, value = run[0]
                parts.append(
                    f'<circle cx="{_x(i, len(days)):.1f}" cy="{_y(value, top):.1f}" r="2.5" '
                    f'fill="{colour}"/>'
                )
            else:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{style}/>'
                )
    parts.append(_legend(series))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    days: Sequence[dt.date],
    values: Sequence[int],
    *,
    description: str = "",
) -> str:
    """One bar per day (counts)."""
    top = _nice_max(values)
    parts = [_frame(chart_id, title, description), *_axes(days, top, False)]
    slot = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    for index, value in enumerate(values):
        height = (value / top) * (HEIGHT - TOP - BOTTOM) if top else 0
        parts.append(
            f'<rect x="{LEFT + index * slot + slot * 0.15:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{PALETTE[0]}">'
            f"<title>{days[index].isoformat()}: {value}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _frame(chart_id: str, title: str, description: str) -> str:
    """``chart_id`` keeps the title and description ids unique among a page's charts."""
    ident = escape(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description or title)}</desc>'
    )


def _axes(days: Sequence[dt.date], top: float, percent: bool) -> list[str]:
    parts = []
    for step in range(5):
        value = top * step / 4
        y = _y(value, top)
        label = f"{value * 100:.0f}%" if percent else f"{value:,.0f}"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{label}</text>'
        )
    if days:
        for index in sorted({0, len(days) // 2, len(days) - 1}):
            parts.append(
                f'<text x="{_x(index, len(days)):.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                f'font-size="11" fill="currentColor">{days[index].isoformat()}</text>'
            )
    return parts


def _legend(series: Sequence[Series]) -> str:
    items = []
    for index, one in enumerate(series):
        x = LEFT + 8 + index * 110
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        style = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{TOP + 6}" y2="{TOP + 6}" stroke="{colour}" '
            f'stroke-width="2"{style}/><text x="{x + 22}" y="{TOP + 10}" font-size="11" '
            f'fill="currentColor">{escape(one.label)}</text>'
        )
    return "".join(items)


def _runs(points: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Unbroken stretches of known values: a day without data is a gap, not a zero."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for index, value in enumerate(points):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((index, value))
    if current:
        runs.append(current)
    return runs


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (value / top if top else 0) * (HEIGHT - TOP - BOTTOM)


def _nice_max(values: Iterable[float]) -> float:
    """The smallest 1/2/5 x 10^n at or above the largest value (at least 1)."""
    largest = max([float(v) for v in values] or [0.0])
    step = 1.0
    while step < largest:
        for factor in (2, 2.5, 2):
            if step >= largest:
                break
            step *= factor
    return step
