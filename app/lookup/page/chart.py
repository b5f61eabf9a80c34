"""Geometry of the promised-points chart, drawn by the template as inline SVG.

A calendar, not a row of equal slots: the x axis is time, from the first of the first month
to the first of the month after the last date, with a tick at every month; each date's bar
stands at its day, as tall as its points. Value labels go above the bars where they fit
without touching a neighbour. The timeline table is the chart's text equivalent. Computed
here so the template does no arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from app.formatting import format_points, format_tick

WIDTH = 720
HEIGHT = 250
LEFT = 56  # room for the y-axis labels
RIGHT = 12
BOTTOM = 30  # room for the month labels
TOP = 22  # room for the value label of the tallest bar
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
MIN_BAR, MAX_BAR = 2.0, 16.0
# The axis labels are 11 px system-ui: about 6.5 px a character, plus a little air.
CHAR_WIDTH = 6.5
LABEL_GAP = 4.0
LABEL_HEIGHT = 13.0  # an 11 px label's line, with a little air
MIN_TICK_SPACING = 30.0  # px between month labels; closer, and only some months are named


class ChartDay(Protocol):
    """What the chart needs of a timeline day."""

    day: date
    total: Decimal


@dataclass(frozen=True, slots=True)
class Bar:
    """One date's bar, in SVG user units, with its value label when there is room for it."""

    day: date
    points: Decimal
    x: float
    y: float
    width: float
    height: float
    label: str | None = None  # the points as shown, above the bar
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass(frozen=True, slots=True)
class Tick:
    """A month boundary on the x axis; label is None where the months are too close."""

    day: date
    x: float
    label: str | None


@dataclass(frozen=True, slots=True)
class Chart:
    """The chart's bars, month ticks and axis labels."""

    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    max_points: Decimal
    first_day: date
    last_day: date

    @property
    def y_label_x(self) -> int:
        """Where the y-axis labels end, just left of the axis."""
        return self.plot_left - 6

    @property
    def max_label_y(self) -> int:
        """Baseline of the label of the largest value, at the top of the plot."""
        return self.plot_top + 4

    @property
    def tick_bottom(self) -> int:
        """Lower end of a month tick."""
        return self.plot_bottom + 5

    @property
    def date_label_y(self) -> int:
        """Baseline of the month labels, under the plot."""
        return self.height - 10


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _months(first: date, last: date) -> list[date]:
    months = [_month_start(first)]
    while months[-1] <= last:
        months.append(_next_month(months[-1]))
    return months  # from the first month's start to just after the last date


def build_chart(days: Sequence[ChartDay], locale: str | None = None) -> Chart:
    """Place one bar per day on a time axis, scaled to the largest day."""
    largest = max((day.total for day in days), default=Decimal(0))
    months = _months(days[0].day, days[-1].day)
    start, end = months[0], months[-1]
    per_day = PLOT_WIDTH / max((end - start).days, 1)
    bar_width = min(max(per_day * 0.8, MIN_BAR), MAX_BAR)

    def x_of(day: date) -> float:
        return LEFT + (day - start).days * per_day

    bars = []
    placed: list[tuple[float, float, float]] = []  # (left, right, baseline) of each label
    lefts = [_bar_x(x_of(day.day), per_day, bar_width) for day in days]
    for index, day in enumerate(days):
        share = float(day.total / largest) if largest > 0 else 0.0
        # A day with points is never drawn invisibly thin.
        height = max(share * PLOT_HEIGHT, 1.0) if day.total > 0 else 0.0
        x = lefts[index]
        text = format_points(day.total, locale)
        half = len(text) * CHAR_WIDTH / 2
        centre = x + bar_width / 2
        label_y = TOP + PLOT_HEIGHT - height - 4
        # A label fits between its neighbouring bars, clear of every label already placed.
        prev_edge = lefts[index - 1] + bar_width if index else LEFT
        next_edge = lefts[index + 1] if index + 1 < len(days) else WIDTH - 2
        left, right = centre - half, centre + half
        fits = (
            left >= prev_edge + LABEL_GAP / 2
            and right <= next_edge - LABEL_GAP / 2
            and not any(_collide((left, right, label_y), other) for other in placed)
        )
        if fits:
            placed.append((left, right, label_y))
        bars.append(
            Bar(
                day=day.day,
                points=day.total,
                x=round(x, 2),
                y=round(TOP + PLOT_HEIGHT - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                label=text if fits else None,
                label_x=round(centre, 2),
                label_y=round(label_y, 2),
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
        ticks=_ticks(months, x_of, locale),
        max_points=largest,
        first_day=days[0].day,
        last_day=days[-1].day,
    )


def _collide(label: tuple[float, float, float], other: tuple[float, float, float]) -> bool:
    """Whether two labels' boxes (left, right, baseline) would touch."""
    return (
        label[0] < other[1] + LABEL_GAP
        and other[0] < label[1] + LABEL_GAP
        and abs(label[2] - other[2]) < LABEL_HEIGHT
    )


def _bar_x(day_x: float, per_day: float, bar_width: float) -> float:
    """The bar covers its own day: centred in it, never past the end of the axis."""
    return min(day_x + (per_day - bar_width) / 2, LEFT + PLOT_WIDTH - bar_width)


def _ticks(
    months: list[date], x_of: Callable[[date], float], locale: str | None
) -> tuple[Tick, ...]:
    """A tick at each month start; a label every n-th month, so labels never collide."""
    spacing = x_of(months[1]) - x_of(months[0]) if len(months) > 1 else PLOT_WIDTH
    every = 1
    while spacing * every < MIN_TICK_SPACING + 8 * CHAR_WIDTH:  # room for "Jan 2027"
        every += 1
    ticks = []
    year = None
    for index, month in enumerate(months):
        last = index == len(months) - 1
        # The closing tick ends the axis; it names no month of its own.
        label = None
        if index % every == 0 and not last:
            # The year with the first month named and with each month named in a new year.
            label = format_tick(month, locale, with_year=month.year != year)
            year = month.year
        ticks.append(Tick(month, round(x_of(month), 2), label))
    return tuple(ticks)
