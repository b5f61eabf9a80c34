"""The answer block: what an agent reads aloud first, and the points already past their date.

"Next: 265 points on Fri 11 Dec 2026 (IST, UTC+05:30), in 7 days" is built from the
timeline; days are counted in the business zone (the display zone, else the cluster's), the
same zone whose date the app calls today. Pending lines whose moment has passed are past due:
never "next", listed on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Protocol

from app.capillary import Balance, PromisedSchedule, ScheduleEntry
from app.formatting import days_from_today

ZERO = Decimal(0)
FOLLOWING = 3  # dates listed under the next one


class AnswerLine(Protocol):
    """What the answer needs of a timeline line (timeline.TimelineLine)."""

    program_id: int
    program_name: str
    points: Decimal


class AnswerDay(Protocol):
    """What the answer needs of a timeline day (timeline.TimelineDay)."""

    first_at: datetime
    total: Decimal

    @property
    def lines(self) -> Sequence[AnswerLine]:
        """The day's lines."""
        ...


@dataclass(frozen=True, slots=True)
class ProgramPoints:
    """Points of one program in a conversion."""

    program_id: int
    program_name: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class Conversion:
    """One date's conversion, in words an agent can read out."""

    day: date  # in the business zone
    at: datetime  # the first conversion that day, in the business zone
    points: Decimal
    programs: tuple[ProgramPoints, ...]
    days_away: int
    when: str  # "today", "tomorrow", "in 7 days"

    @property
    def cross_program(self) -> bool:
        """Whether the points are a sum over several programs (and must say so)."""
        return len(self.programs) > 1


@dataclass(frozen=True, slots=True)
class Answer:
    """The top of the member page: balance now, pending, and what converts next."""

    scope_label: str
    all_programs: bool  # the figures are a sum over programs
    available: Decimal | None
    pending: Decimal | None
    next: Conversion | None
    following: tuple[Conversion, ...]
    schedule_failed: bool
    past_due_points: Decimal
    last_known: str | None = None  # some figures are last known: from when, which
    waiting: Decimal = ZERO  # promised points with no date: they wait for an event


@dataclass(frozen=True, slots=True)
class PastDueLine:
    """Pending points of one program whose date has passed."""

    day: date  # in the upstream's offset, as it sent the date
    at: datetime
    program_id: int
    program_name: str
    points: Decimal


def split_past_due(
    entries: Sequence[ScheduleEntry], now: datetime
) -> tuple[list[ScheduleEntry], list[ScheduleEntry]]:
    """(still to come, past due): an entry is past due once its moment is behind now."""
    upcoming: list[ScheduleEntry] = []
    past: list[ScheduleEntry] = []
    for entry in entries:
        (past if entry.redeemable_from <= now else upcoming).append(entry)
    return upcoming, past


def build_past_due(
    schedule: PromisedSchedule | None, now: datetime, name_of: Callable[[int], str]
) -> tuple[PastDueLine, ...]:
    """Past-due points by date then program, oldest first."""
    if schedule is None:
        return ()
    _, past = split_past_due(schedule.entries, now)
    sums: dict[tuple[date, int], Decimal] = defaultdict(lambda: ZERO)
    first: dict[tuple[date, int], datetime] = {}
    for entry in past:
        key = (entry.redeemable_from.date(), entry.program_id)
        sums[key] += entry.points
        first[key] = min(first.get(key, entry.redeemable_from), entry.redeemable_from)
    return tuple(
        PastDueLine(day, first[(day, pid)], pid, name_of(pid), sums[(day, pid)])
        for day, pid in sorted(sums)
    )


def _conversion(day: AnswerDay, zone: tzinfo, today: date, locale: str | None) -> Conversion:
    at = day.first_at.astimezone(zone)
    by_program: dict[int, ProgramPoints] = {}
    for line in day.lines:
        known = by_program.get(line.program_id)
        total = (known.points if known else ZERO) + line.points
        by_program[line.program_id] = ProgramPoints(line.program_id, line.program_name, total)
    days_away = (at.date() - today).days
    return Conversion(
        day=at.date(),
        at=at,
        points=day.total,
        programs=tuple(by_program.values()),
        days_away=days_away,
        when=days_from_today(days_away, locale),
    )


def build_answer(
    *,
    scope_label: str,
    all_programs: bool,
    balance: Balance | None,
    timeline: Sequence[AnswerDay],
    schedule_failed: bool,
    past_due: Sequence[PastDueLine],
    zone: tzinfo,
    today: date,
    locale: str | None = None,
    last_known: str | None = None,
    waiting: Decimal | None = None,
) -> Answer:
    """The answer block from the page's figures (the timeline holds only what is to come)."""
    conversions = [_conversion(day, zone, today, locale) for day in timeline[: FOLLOWING + 1]]
    if waiting is None:  # no schedule: the balance still says how many wait for an event
        waiting = balance.external_trigger_points if balance else ZERO
    return Answer(
        scope_label=scope_label,
        all_programs=all_programs,
        available=balance.main_points if balance else None,
        pending=balance.promised_points if balance else None,
        next=conversions[0] if conversions else None,
        following=tuple(conversions[1:]),
        schedule_failed=schedule_failed,
        past_due_points=sum((line.points for line in past_due), ZERO),
        last_known=last_known,
        waiting=waiting,
    )
