"""The promised-points timeline: entries grouped by date, then program, then points type, with
the running "available by then"; and the trigger-based points, which have no date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from itertools import groupby
from operator import itemgetter

from app.capillary import PromisedSchedule
from app.formatting import same_zone
from app.lookup.fetching.scope import program_name
from app.lookup.page.answer import split_past_due

ZERO = Decimal(0)

# The printed slip lists only the soonest dates, so it stays on one page; the screen shows all.
SLIP_DAYS = 10


SLIP_LINES = 14  # ...and only as many table lines as the page has room for


POINTS_TYPE_LABELS = {
    "bill_regular": "Bill, regular",
    "bill_promotions": "Bill, promotion",
    "line_item_regular": "Line item, regular",
    "line_item_promotions": "Line item, promotion",
    "customer_promotions": "Customer, promotion",
}


def points_type_label(points_type: str) -> str:
    """Plain words for an upstream pointsType; unknown types are shown tidied, not hidden."""
    return POINTS_TYPE_LABELS.get(points_type, points_type.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """Points of one program and points type converting on a date."""

    program_id: int
    program_name: str
    points_type: str
    points_type_label: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class TimelineDay:
    """All conversions on one date (in the upstream's zone), with the running projection."""

    day: date
    first_at: datetime  # earliest conversion that day, in the upstream's offset
    first_at_display: datetime | None  # the same instant in the configured display zone
    lines: tuple[TimelineLine, ...]
    total: Decimal
    projected_available: Decimal | None  # available now + everything converted by then
    index: int = 0  # position in the timeline, 0 for the soonest date
    on_slip: bool = True  # listed on the printed one-page slip (only the soonest dates are)


@dataclass(frozen=True, slots=True)
class TriggerRow:
    """Promised points that wait for an event."""

    program_id: int
    program_name: str
    points_type_label: str
    points: Decimal


def build_timeline(
    schedule: PromisedSchedule,
    available: Decimal | None,
    programs: Mapping[int, str],
    display_zone: tzinfo | None,
    *,
    now: datetime | None = None,
) -> tuple[TimelineDay, ...]:
    """Group entries by date, then program, then points type; add the running projection.

    With now, entries already past their moment are left out: they are past due, not to come.
    """
    entries = split_past_due(schedule.entries, now)[0] if now is not None else schedule.entries
    # The date as the upstream means it: in the offset it sent (the cluster's zone). Each
    # entry's sort key is computed once: a long schedule has thousands.
    keyed = sorted(
        (
            ((e.redeemable_from.date(), e.program_id, e.points_type, e.redeemable_from), e)
            for e in entries
        ),
        key=itemgetter(0),
    )
    labels: dict[str, str] = {}
    days: list[TimelineDay] = []
    running = available
    slip_lines = 0
    for day, day_entries in groupby(keyed, key=lambda pair: pair[0][0]):
        group = [entry for _, entry in day_entries]
        lines: list[TimelineLine] = []
        for (program_id, points_type), same in groupby(
            group, key=lambda e: (e.program_id, e.points_type)
        ):
            if points_type not in labels:
                labels[points_type] = points_type_label(points_type)
            lines.append(
                TimelineLine(
                    program_id=program_id,
                    program_name=program_name(programs, program_id),
                    points_type=points_type,
                    points_type_label=labels[points_type],
                    points=sum((e.points for e in same), ZERO),
                )
            )
        total = sum((line.points for line in lines), ZERO)
        running = running + total if running is not None else None
        first_at = min(e.redeemable_from for e in group)
        shown_at = first_at.astimezone(display_zone) if display_zone else None
        slip_lines += len(lines)
        on_slip = not days or (len(days) < SLIP_DAYS and slip_lines <= SLIP_LINES)
        days.append(
            TimelineDay(
                day=day,
                first_at=first_at,
                # One zone label when both zones read the same: no time shown twice.
                first_at_display=(
                    shown_at if shown_at and not same_zone(shown_at, first_at) else None
                ),
                lines=tuple(lines),
                total=total,
                projected_available=running,
                index=len(days),
                on_slip=on_slip and (not days or days[-1].on_slip),
            )
        )
    return tuple(days)


def build_triggers(
    schedule: PromisedSchedule, programs: Mapping[int, str]
) -> tuple[TriggerRow, ...]:
    """Trigger-based points, by program then points type."""
    ordered = sorted(schedule.triggers, key=lambda t: (t.program_id, t.points_type))
    return tuple(
        TriggerRow(
            t.program_id,
            program_name(programs, t.program_id),
            points_type_label(t.points_type),
            t.points,
        )
        for t in ordered
    )
