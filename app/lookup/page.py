"""The member page's view model: every figure computed here, so templates only display."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from itertools import groupby
from operator import itemgetter

from app.capillary import Balance, CapillaryError, PromisedSchedule
from app.capillary.errors import EXPLANATIONS
from app.lookup.chart import Chart, build_chart
from app.lookup.scope import ALL, DEFAULT, LookupParams
from app.lookup.service import MemberData

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

TILE_TEXT = {
    "available": ("Available now", "Points the member can redeem today."),
    "promised": (
        "Promised",
        "Points earned but not yet redeemable; they become available later.",
    ),
    "delayed": (
        "of which delayed accrual",
        "Promised points held back by the program's rules until a date.",
    ),
    "trigger": (
        "of which waiting for an event",
        "Promised points that convert only when an external event arrives, such as a "
        "return window closing; they have no date.",
    ),
    "total": ("Total", "Available now plus promised."),
}


def points_type_label(points_type: str) -> str:
    """Plain words for an upstream pointsType; unknown types are shown tidied, not hidden."""
    return POINTS_TYPE_LABELS.get(points_type, points_type.replace("_", " ").capitalize())


def program_name(programs: Mapping[int, str], program_id: int) -> str:
    """The configured name, or the id for a program the configuration does not name."""
    return programs.get(program_id, f"Program {program_id}")


@dataclass(frozen=True, slots=True)
class Tile:
    """One balance figure with its plain-language explanation."""

    key: str
    label: str
    points: Decimal | None
    explanation: str


@dataclass(frozen=True, slots=True)
class ProgramRow:
    """One program's balance, or why it is missing."""

    program_id: int | None
    name: str
    available: Decimal | None = None
    promised: Decimal | None = None
    delayed: Decimal | None = None
    trigger: Decimal | None = None
    total: Decimal | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ProgramTable:
    """The per-program breakdown, its totals row, and any disagreement with the summed call."""

    rows: tuple[ProgramRow, ...]
    totals: ProgramRow
    incomplete: bool  # some program's call failed, so the totals leave it out
    all_programs_total: Decimal | None  # the upstream's own sum, when the scope is all
    difference: Decimal | None  # all_programs_total - totals.total, when not zero


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


@dataclass(frozen=True, slots=True)
class Notice:
    """An upstream warning or a failed call, in plain words with the upstream's code."""

    title: str
    explanation: str
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    http_status: int | None = None  # the upstream's HTTP status, when it answered one


@dataclass(frozen=True, slots=True)
class MemberPage:
    """Everything the member page displays."""

    member_id: int
    scope_label: str
    params: LookupParams
    as_of: datetime
    tiles: tuple[Tile, ...]
    program_table: ProgramTable
    timeline: tuple[TimelineDay, ...]
    timeline_total: Decimal
    chart: Chart | None
    triggers: tuple[TriggerRow, ...]
    triggers_total: Decimal
    warnings: tuple[Notice, ...]
    failures: tuple[Notice, ...]
    schedule_failed: bool
    balance_failed: bool
    upstream_calls: int
    age_seconds: int  # how old the oldest figure is
    age_text: str  # "12 seconds ago"

    @property
    def slip_truncated(self) -> bool:
        """Whether the printed slip leaves out later dates of the timeline."""
        return any(not day.on_slip for day in self.timeline)


def scope_label(params: LookupParams, programs: Mapping[int, str]) -> str:
    """The program scope in words."""
    if params.program == ALL:
        return "All programs"
    if params.program == DEFAULT:
        return "Default program"
    return f"{program_name(programs, int(params.program))} ({params.program})"


def build_page(
    data: MemberData,
    programs: Mapping[int, str],
    *,
    display_zone: tzinfo | None,
    as_of_zone: tzinfo,
    now: datetime | None = None,
) -> MemberPage:
    """Turn fetched data into the page's figures; now (default: the clock) dates their age."""
    assert data.member_id is not None
    age = age_seconds(data.fetched_at, now or datetime.now(UTC))
    balance = data.scope_balance.value
    available = balance.main_points if balance else None
    schedule = data.schedule.value
    timeline = build_timeline(schedule, available, programs, display_zone) if schedule else ()
    return MemberPage(
        member_id=data.member_id,
        scope_label=scope_label(data.params, programs),
        params=data.params,
        as_of=data.fetched_at.astimezone(as_of_zone),
        tiles=build_tiles(balance),
        program_table=build_program_table(data, programs),
        timeline=timeline,
        timeline_total=sum((day.total for day in timeline), ZERO),
        chart=build_chart(timeline) if timeline else None,
        triggers=build_triggers(schedule, programs) if schedule else (),
        triggers_total=sum((t.points for t in schedule.triggers), ZERO) if schedule else ZERO,
        warnings=build_warnings(data),
        failures=build_failures(data, programs),
        schedule_failed=not data.schedule.ok,
        balance_failed=not data.scope_balance.ok,
        upstream_calls=data.upstream_calls,
        age_seconds=age,
        age_text=age_text(age),
    )


def age_seconds(fetched_at: datetime, now: datetime) -> int:
    """Whole seconds since fetched_at (never negative: clocks of two servers may differ)."""
    return max(0, int((now - fetched_at).total_seconds()))


def age_text(seconds: int) -> str:
    """'just now', '1 second ago', '42 seconds ago', '3 minutes ago'."""
    if seconds < 1:
        return "just now"
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''} ago"
    return f"{seconds // 60} minutes ago"


def build_tiles(balance: Balance | None) -> tuple[Tile, ...]:
    """The five balance tiles; figures are None when the balance call failed."""
    figures = {
        "available": balance.main_points if balance else None,
        "promised": balance.promised_points if balance else None,
        "delayed": balance.delayed_accrual_points if balance else None,
        "trigger": balance.external_trigger_points if balance else None,
        "total": balance.total_points if balance else None,
    }
    tiles = []
    for key, points in figures.items():
        label, explanation = TILE_TEXT[key]
        tiles.append(Tile(key, label, points, explanation))
    return tuple(tiles)


def _row(program_id: int | None, name: str, balance: Balance) -> ProgramRow:
    return ProgramRow(
        program_id=program_id,
        name=name,
        available=balance.main_points,
        promised=balance.promised_points,
        delayed=balance.delayed_accrual_points,
        trigger=balance.external_trigger_points,
        total=balance.total_points,
    )


def build_program_table(data: MemberData, programs: Mapping[int, str]) -> ProgramTable:
    """One row per configured program, a totals row, and the check against the upstream sum."""
    rows: list[ProgramRow] = []
    sums = defaultdict(lambda: ZERO)
    incomplete = False
    for program_id, outcome in data.program_balances.items():
        name = program_name(programs, program_id)
        if outcome.value is None:
            incomplete = True
            rows.append(ProgramRow(program_id, name, error=_explain(outcome.error)))
            continue
        row = _row(program_id, name, outcome.value)
        rows.append(row)
        for key in ("available", "promised", "delayed", "trigger", "total"):
            sums[key] += getattr(row, key)
    totals = ProgramRow(None, "All listed programs", **{k: sums[k] for k in TILE_TEXT})
    upstream_sum = None
    difference = None
    if data.params.program == ALL and data.scope_balance.value is not None:
        upstream_sum = data.scope_balance.value.total_points
        if not incomplete and upstream_sum != totals.total:
            difference = upstream_sum - (totals.total or ZERO)
    return ProgramTable(tuple(rows), totals, incomplete, upstream_sum, difference)


def build_timeline(
    schedule: PromisedSchedule,
    available: Decimal | None,
    programs: Mapping[int, str],
    display_zone: tzinfo | None,
) -> tuple[TimelineDay, ...]:
    """Group entries by date, then program, then points type; add the running projection."""
    # The date as the upstream means it: in the offset it sent (the cluster's zone). Each
    # entry's sort key is computed once: a long schedule has thousands.
    keyed = sorted(
        (
            ((e.redeemable_from.date(), e.program_id, e.points_type, e.redeemable_from), e)
            for e in schedule.entries
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
        slip_lines += len(lines)
        on_slip = not days or (len(days) < SLIP_DAYS and slip_lines <= SLIP_LINES)
        days.append(
            TimelineDay(
                day=day,
                first_at=first_at,
                first_at_display=first_at.astimezone(display_zone) if display_zone else None,
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


def build_warnings(data: MemberData) -> tuple[Notice, ...]:
    """The upstream's warnings from every call, each once, in plain words."""
    seen: dict[tuple[int | None, str], Notice] = {}
    for outcome in data.outcomes:
        if outcome.value is None:
            continue
        for warning in outcome.value.warnings:
            key = (warning.code, warning.message)
            if key in seen:
                continue
            explanation = EXPLANATIONS.get(
                warning.code or -1, "The loyalty system sent a warning Points Desk does not know."
            )
            seen[key] = Notice(
                title="Warning from the loyalty system",
                explanation=explanation,
                code=warning.code,
                message=warning.message,
                request_id=outcome.value.request_id,
            )
    return tuple(seen.values())


def _explain(error: CapillaryError | None) -> str:
    return error.explanation if error is not None else ""


def build_failures(data: MemberData, programs: Mapping[int, str]) -> tuple[Notice, ...]:
    """What is missing from the page and why, with the upstream's code and request id."""
    failed: list[tuple[str, CapillaryError]] = []
    scope_is_a_program_row = any(data.scope_balance is o for o in data.program_balances.values())
    if data.scope_balance.error is not None and not scope_is_a_program_row:
        failed.append(("The balance for this scope is missing", data.scope_balance.error))
    for program_id, outcome in data.program_balances.items():
        if outcome.error is not None:
            name = program_name(programs, program_id)
            failed.append((f"The balance for {name} ({program_id}) is missing", outcome.error))
    if data.schedule.error is not None:
        failed.append(("The promised-points timeline is missing", data.schedule.error))
    return tuple(
        Notice(
            title=title,
            explanation=error.explanation,
            code=error.code,
            message=error.message if error.code is not None else None,
            request_id=error.request_id,
            http_status=error.status,
        )
        for title, error in failed
    )
