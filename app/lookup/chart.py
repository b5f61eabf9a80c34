"""Geometry of the promised-points chart, drawn by the template as inline SVG.

One bar per date, its height the points converting that date; the timeline table is the
chart's text equivalent. Computed here so the template does no arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

WIDTH = 720
HEIGHT = 240
LEFT = 56  # room for the y-axis labels
BOTTOM = 28  # room for the date labels
TOP = 12
PLOT_WIDTH = WIDTH - LEFT - 8
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


class ChartDay(Protocol):
    """What the chart needs of a timeline day."""

    day: date
    total: Decimal


@dataclass(frozen=True, slots=True)
class Bar:
    """One date's bar, in SVG user units."""

    day: date
    points: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    """The chart's bars and axis labels."""

    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int
    bars: tuple[Bar, ...]
    max_points: Decimal
    first_day: date
    last_day: date

    @property
    def y_label_x(self) -> int:
        """Where the y-axis labels end, just left of the axis."""
        return self.plot_left - 6

    @property
    def max_label_y(self) -> int:
        """Baseline of the label of the largest value, near the top of the plot."""
        return self.plot_top + 10

    @property
    def date_label_y(self) -> int:
        """Baseline of the first and last dates, under the plot."""
        return self.height - 8


def build_chart(days: Sequence[ChartDay]) -> Chart:
    """Lay out one bar per day, scaled to the largest day."""
    largest = max((day.total for day in days), default=Decimal(0))
    slot = PLOT_WIDTH / max(len(days), 1)
    gap = min(slot * 0.2, 4.0)
    bars = []
    for index, day in enumerate(days):
        share = float(day.total / largest) if largest > 0 else 0.0
        # A day with points is never drawn invisibly thin.
        height = max(share * PLOT_HEIGHT, 1.0) if day.total > 0 else 0.0
        bars.append(
            Bar(
                day=day.day,
                points=day.total,
                x=round(LEFT + index * slot + gap / 2, 2),
                y=round(TOP + PLOT_HEIGHT - height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(height, 2),
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_top=TOP,
        plot_bottom=TOP + PLOT_HEIGHT,
        plot_right=LEFT + PLOT_WIDTH,
        bars=tuple(bars),
        max_points=largest,
        first_day=days[0].day,
        last_day=days[-1].day,
    )
