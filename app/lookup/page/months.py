"""The timeline grouped by month: each month's total, the next months open, the rest folded.

Folding is server-side (details/summary), so a 480-line schedule is a few lines long
without any script, and every date is still one click away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import Protocol

OPEN_AT_LEAST = 1  # months shown open however few dates they hold


class MonthDay(Protocol):
    """What the grouping needs of a timeline day (timeline.TimelineDay)."""

    day: date
    total: Decimal
    on_slip: bool


@dataclass(frozen=True, slots=True)
class TimelineMonth:
    """One calendar month of the timeline."""

    month: date  # the first of the month
    days: tuple[MonthDay, ...]
    total: Decimal
    lines: int  # how many dates
    slip_lines: int  # how many of them the printed slip lists
    open: bool  # shown unfolded
    on_slip: bool  # some of its dates are on the printed slip

    @property
    def key(self) -> str:
        """'2026-12', for ids and tests."""
        return f"{self.month.year:04d}-{self.month.month:02d}"


def group_months(days: Sequence[MonthDay]) -> tuple[TimelineMonth, ...]:
    """Consecutive days of the same month together. Open: the months holding the soonest
    dates (those on the printed slip, about ten), so the next conversions are in sight."""
    months: list[TimelineMonth] = []
    for month, same in groupby(days, key=lambda d: d.day.replace(day=1)):
        group = tuple(same)
        on_slip = any(day.on_slip for day in group)
        months.append(
            TimelineMonth(
                month=month,
                days=group,
                total=sum((day.total for day in group), Decimal(0)),
                lines=len(group),
                slip_lines=sum(1 for day in group if day.on_slip),
                open=len(months) < OPEN_AT_LEAST or on_slip,
                on_slip=on_slip,
            )
        )
    return tuple(months)
