"""Small server-rendered SVG charts for the admin dashboard: no JavaScript, no chart library,
nothing the admin's CSP has to allow. Each chart is an ``<svg role="img">`` with a title and
description; the page shows the same numbers in a table beside it.

Charts scale with their column (a ``viewBox``, no fixed size); every label lies inside the
``viewBox`` (the first and last dates are anchored at the plot's edges, not centred past them),
and the legend has its own band above the plot, so it never covers a line or the 100 % rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence
from html import escape

WIDTH, PLOT_HEIGHT = 640, 196
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 32
LEGEND_ROW = 18
CHAR_WIDTH = 6.5  # a generous average advance of an 11px sans-serif glyph, to lay the legend out
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
    legend, rows = _legend(series)
    plot = _Plot(TOP + rows * LEGEND_ROW + (6 if rows else 0), top)
    parts = [_frame(chart_id, title, description, plot), legend, *_axes(days, plot, percent)]
    for index, one in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        for run in _runs(one.points):
            points = " ".join(f"{_x(i, len(days)):.1f},{plot.y(value):.1f}" for i, value in run)
            style = f' stroke-dasharray="{dash}"' if dash else ""
            if len(run) == 1:
                i, value = run[0]
                parts.append(
                    f'<circle cx="{_x(i, len(days)):.1f}" cy="{plot.y(value):.1f}" r="2.5" '
                    f'fill="{colour}"/>'
                )
            else:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{style}/>'
                )
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
    plot = _Plot(TOP, _nice_max(values))
    parts = [_frame(chart_id, title, description, plot), *_axes(days, plot, False)]
    slot = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    for index, value in enumerate(values):
        height = plot.bottom - plot.y(value)
        parts.append(
            f'<rect x="{LEFT + index * slot + slot * 0.15:.1f}" y="{plot.y(value):.1f}" '
            f'width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{PALETTE[0]}">'
            f"<title>{days[index].isoformat()}: {value}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclasses.dataclass(frozen=True)
class _Plot:
    """Where the plot sits: below ``top`` (the legend's band above it), values 0..``scale``."""

    top: float
    scale: float

    @property
    def bottom(self) -> float:
        return self.top + PLOT_HEIGHT

    @property
    def height(self) -> float:
        return self.bottom + BOTTOM

    def y(self, value: float) -> float:
        return self.bottom - (value / self.scale if self.scale else 0) * PLOT_HEIGHT


def _frame(chart_id: str, title: str, description: str, plot: _Plot) -> str:
    """``chart_id`` keeps the title and description ids unique among a page's charts."""
    ident = escape(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {plot.height:.0f}" '
        'role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description or title)}</desc>'
    )


def _axes(days: Sequence[dt.date], plot: _Plot, percent: bool) -> list[str]:
    parts = []
    for step in range(5):
        value = plot.scale * step / 4
        y = plot.y(value)
        # Quarters of a small count are fractions: "0.5", not a second "0" or "1".
        label = f"{value * 100:.0f}%" if percent else f"{value:,.2f}".rstrip("0").rstrip(".")
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{label}</text>'
        )
    if days:
        last = len(days) - 1
        for index in sorted({0, len(days) // 2, last}):
            # The edge labels grow inwards, so the last date is never clipped by the viewBox.
            anchor = (
                "start" if index == 0 and last else "end" if index == last and last else "middle"
            )
            x = (
                LEFT
                if anchor == "start"
                else WIDTH - RIGHT
                if anchor == "end"
                else _x(index, len(days))
            )
            parts.append(
                f'<text x="{x:.1f}" y="{plot.height - 10:.0f}" text-anchor="{anchor}" '
                f'font-size="11" fill="currentColor">{days[index].isoformat()}</text>'
            )
    return parts


def _legend(series: Sequence[Series]) -> tuple[str, int]:
    """The legend's entries in rows above the plot, wrapping at the chart's width: (SVG, rows)."""
    items, x, row = [], float(LEFT), 0
    for index, one in enumerate(series):
        width = 22 + len(one.label) * CHAR_WIDTH + 16
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        y = TOP + row * LEGEND_ROW
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        style = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y + 6}" y2="{y + 6}" stroke="{colour}" '
            f'stroke-width="2"{style}/><text x="{x + 22:.1f}" y="{y + 10}" font-size="11" '
            f'fill="currentColor">{escape(one.label)}</text>'
        )
        x += width
    return "".join(items), (row + 1 if series else 0)


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
