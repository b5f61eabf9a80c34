"""The member page's view model: every figure computed here, so templates only display."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from app.capillary import Balance, CapillaryError
from app.explanations import explain
from app.formatting import age_text, format_datetime, format_time
from app.lookup.fetching.outcome import MemberData
from app.lookup.fetching.scope import ALL, LookupParams, program_name, scope_label
from app.lookup.page.answer import Answer, PastDueLine, build_answer, build_past_due
from app.lookup.page.chart import Chart, build_chart
from app.lookup.page.expiry import Expiry, build_expiry
from app.lookup.page.months import TimelineMonth, group_months
from app.lookup.page.notices import Notice, build_failures, build_warnings
from app.lookup.page.timeline import TimelineDay, TriggerRow, build_timeline, build_triggers
from app.lookup.page.who import Who, build_who

__all__ = ["age_text"]  # re-exported: the page's "12 seconds ago"

ZERO = Decimal(0)
# Figures older than this are called out at the top (the cache normally keeps them 30 s).
STALE_SECONDS = 120


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
class LastKnownNotice:
    """Figures shown from their last-known copy because the upstream did not answer now."""

    since: datetime  # when the oldest of them was fetched, in the zone the page shows
    text: str  # "Last known, from 10:42 (IST, UTC+05:30), 38 minutes ago: the loyalty..."
    parts: str  # which figures: all of them, or "Only the balance is last known; ..."
    explanation: str  # the failure of the call just made, in plain words
    code: int | None = None
    http_status: int | None = None
    request_id: str | None = None

    @property
    def line(self) -> str:
        """Both sentences on one line, for the answer block and the ticket summary."""
        return f"{self.text} {self.parts}"


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
    answer: Answer
    past_due: tuple[PastDueLine, ...]
    months: tuple[TimelineMonth, ...]
    stale: bool  # the figures are old enough to say so at the top
    last_known: LastKnownNotice | None = None  # some figures are last known (an outage)
    who: Who | None = None  # name and tiers; None when not asked for
    expiry: Expiry | None = None  # what expires; None when not asked for

    @property
    def has_problems(self) -> bool:
        """Whether the top of the page has something to say before the figures."""
        return bool(self.failures or self.warnings or self.stale or self.last_known)

    @property
    def slip_truncated(self) -> bool:
        """Whether the printed slip leaves out later dates of the timeline."""
        return any(not day.on_slip for day in self.timeline)


def build_page(
    data: MemberData,
    programs: Mapping[int, str],
    *,
    display_zone: tzinfo | None,
    as_of_zone: tzinfo,
    now: datetime,
    locale: str | None = None,
    full_name: bool = False,
    soon_days: int = 90,
    dual_eligibility: bool = False,
) -> MemberPage:
    """Turn fetched data into the page's figures; now (the app's clock) dates their age and
    says which dates are past; as_of_zone is the zone whose date is today. full_name: the
    staff member may see the member's full name; soon_days: EXPIRY_SOON_DAYS."""
    assert data.member_id is not None
    age = age_seconds(data.fetched_at, now)
    balance = data.scope_balance.value
    available = balance.main_points if balance else None
    schedule = data.schedule.value
    timeline = (
        build_timeline(schedule, available, programs, display_zone, now=now) if schedule else ()
    )
    past_due = build_past_due(schedule, now, lambda pid: program_name(programs, pid))
    label = scope_label(data.params, programs)
    last_known = build_last_known(
        data, programs, zone=display_zone or as_of_zone, now=now, locale=locale
    )
    answer = build_answer(
        scope_label=label,
        all_programs=data.params.program == ALL,
        balance=balance,
        timeline=timeline,
        schedule_failed=not data.schedule.ok,
        past_due=past_due,
        zone=as_of_zone,
        today=now.astimezone(as_of_zone).date(),
        locale=locale,
        last_known=last_known.line if last_known else None,
        waiting=sum((t.points for t in schedule.triggers), ZERO) if schedule else None,
    )
    return MemberPage(
        member_id=data.member_id,
        scope_label=label,
        params=data.params,
        as_of=data.fetched_at.astimezone(as_of_zone),
        tiles=build_tiles(balance),
        program_table=build_program_table(data, programs),
        timeline=timeline,
        timeline_total=sum((day.total for day in timeline), ZERO),
        chart=build_chart(timeline, locale) if timeline else None,
        triggers=build_triggers(schedule, programs) if schedule else (),
        triggers_total=sum((t.points for t in schedule.triggers), ZERO) if schedule else ZERO,
        warnings=build_warnings(data),
        failures=build_failures(data, programs),
        schedule_failed=not data.schedule.ok,
        balance_failed=not data.scope_balance.ok,
        upstream_calls=data.upstream_calls,
        age_seconds=age,
        age_text=age_text(age, locale),
        answer=answer,
        past_due=past_due,
        months=group_months(timeline),
        # The last-known banner says how old its figures are, and more.
        stale=age >= STALE_SECONDS and last_known is None,
        last_known=last_known,
        who=build_who(
            data.who,
            data.params,
            programs,
            full_name=full_name,
            zone=as_of_zone,
            today=now.astimezone(as_of_zone).date(),
            locale=locale,
        ),
        expiry=build_expiry(
            data.expiry,
            data.params,
            programs,
            zone=as_of_zone,
            now=now,
            soon_days=soon_days,
            dual_eligibility=dual_eligibility,
            locale=locale,
        ),
    )


def build_last_known(
    data: MemberData,
    programs: Mapping[int, str],
    *,
    zone: tzinfo,
    now: datetime,
    locale: str | None = None,
) -> LastKnownNotice | None:
    """The banner over last-known figures: from when, how long ago, which, and why."""
    since = data.stale_since
    if since is None:
        return None
    since = since.astimezone(zone)
    same_day = since.date() == now.astimezone(zone).date()
    when = format_time(since, locale) if same_day else format_datetime(since, locale=locale)
    age = age_text(age_seconds(since, now), locale)
    named: list[str] = []
    reasons: list[CapillaryError] = []
    scope = data.scope_balance
    if scope.stale_because is not None:
        named.append("the balance")
        reasons.append(scope.stale_because)
    for program_id, outcome in data.program_balances.items():
        if outcome.stale_because is not None and outcome is not scope:
            named.append(f"the balance for {program_name(programs, program_id)} ({program_id})")
            reasons.append(outcome.stale_because)
    if data.schedule.stale_because is not None:
        named.append("the promised-points timeline")
        reasons.append(data.schedule.stale_because)
    for outcome, words in (
        (data.who, "the member profile (name and tier)"),
        (data.expiry, "the expiry schedule"),
    ):
        if outcome is not None and outcome.stale_because is not None:
            named.append(words)
            reasons.append(outcome.stale_because)
    distinct = {id(outcome): outcome for outcome in data.outcomes}.values()
    if all(outcome.stale for outcome in distinct):
        parts = "Every figure on this page is last known."
    else:
        verb = "is" if len(named) == 1 else "are"
        parts = f"Only {_and_list(named)} {verb} last known; the rest of the page is fresh."
    error = reasons[0]
    return LastKnownNotice(
        since=since,
        text=f"Last known, from {when}, {age}: the loyalty system did not answer now.",
        parts=parts,
        explanation=explain(error),
        code=error.code,
        http_status=error.status,
        request_id=error.request_id,
    )


def _and_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def age_seconds(fetched_at: datetime, now: datetime) -> int:
    """Whole seconds since fetched_at (never negative: clocks of two servers may differ)."""
    return max(0, int((now - fetched_at).total_seconds()))


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
    sums: dict[str, Decimal | None] = defaultdict(lambda: ZERO)
    incomplete = False
    for program_id, outcome in data.program_balances.items():
        name = program_name(programs, program_id)
        if outcome.value is None:
            incomplete = True
            rows.append(ProgramRow(program_id, name, error=explain(outcome.error)))
            continue
        row = _row(program_id, name, outcome.value)
        rows.append(row)
        for key in ("available", "promised", "delayed", "trigger", "total"):
            # A figure not known in one program leaves its column's total not known.
            known, figure = sums[key], getattr(row, key)
            sums[key] = known + figure if known is not None and figure is not None else None
    totals = ProgramRow(None, "All listed programs", **{k: sums[k] for k in TILE_TEXT})
    upstream_sum = None
    difference = None
    if data.params.program == ALL and data.scope_balance.value is not None:
        upstream_sum = data.scope_balance.value.total_points
        known = upstream_sum is not None and totals.total is not None
        if not incomplete and known and upstream_sum != totals.total:
            difference = upstream_sum - totals.total
    return ProgramTable(tuple(rows), totals, incomplete, upstream_sum, difference)
