"""Success bodies of the balance and schedule endpoints, in the documented shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.sandbox.data import (
    CLUSTER_TIMEZONE,
    ORG_PROGRAMS,
    Member,
    ProgramBalance,
    ScheduleItem,
    balance_for,
)
from app.sandbox.encoding import format_points
from app.sandbox.params import Scope

CLUSTER_ZONE = ZoneInfo(CLUSTER_TIMEZONE)
ZERO = Decimal("0.000")
NOTHING = ProgramBalance(main=ZERO, delayed_accrual=ZERO, external_trigger=ZERO)
# The demo org's programs as GET v2/organization/programs describes them (tierBased per the
# field table; "default" as the [SLATE] sample marks the org's default program).
PROGRAM_DESCRIPTIONS: dict[int, tuple[str, bool]] = {
    2199: ("The main loyalty program, with tiers", True),
    1933: ("Points earned with partner brands", False),
    890: ("Points earned on fuel purchases", False),
    4242: ("The program before Gold Club; points kept, no new members", False),
}


def balance_body(member: Member, scope: Scope) -> dict[str, object]:
    """capillary-api.md 1.5: one flat object, summed when several programs are in scope."""
    # The 2022 docs also showed a top-level programId; the current ones do not, and the
    # documented example must match field for field, so it is left out.
    # A balance sent with warning 91001 carries zeros: the points were not fetched (7.1).
    balance = NOTHING if member.balance_zeroed else balance_for(member, scope.program_ids)
    body: dict[str, object] = {
        "entityId": member.id,
        "entityType": scope.entity_type,
        "totalPoints": balance.total,
        "mainPoints": balance.main,
        "promisedPoints": balance.promised,
        "promisedPointsBreakup": {
            "delayedAccrualPoints": balance.delayed_accrual,
            "externalTriggerBasedPoints": balance.external_trigger,
        },
        "warnings": list(member.balance_warnings),
    }
    if not member.promised_field:
        del body["promisedPoints"]
    return _finish(body, member)


def programs_body(default_program: int) -> dict[str, object]:
    """GET v2/organization/programs: the org's programs, in the [SLATE] sample's envelope."""
    programs = [
        {
            "programId": program_id,
            "programName": name,
            "programDescription": PROGRAM_DESCRIPTIONS[program_id][0],
            "tierBased": PROGRAM_DESCRIPTIONS[program_id][1],
            "default": program_id == default_program,
        }
        for program_id, name in ORG_PROGRAMS.items()
    ]
    return {"data": programs, "warnings": [], "errors": []}


def _finish(body: dict[str, object], member: Member) -> dict[str, object]:
    """Add the member's errors[] beside the data and write its points in its style."""
    if member.errors_with_data:
        body["errors"] = list(member.errors_with_data)
    return _styled(body, member.points_style)  # type: ignore[return-value]


def _styled(value: object, style: str) -> object:
    """Points as the member's answers write them: decimals, integers or quoted strings."""
    if isinstance(value, Decimal):
        if style == "integer":
            if value != value.to_integral_value():
                raise ValueError("an integer-style member has a fractional figure")
            return int(value)
        return format_points(value) if style == "string" else value
    if isinstance(value, Mapping):
        return {k: _styled(v, style) for k, v in value.items()}
    if isinstance(value, list):
        return [_styled(v, style) for v in value]
    return value


def schedule_body(member: Member, scope: Scope) -> dict[str, object]:
    """capillary-api.md 2.3: one flat list across programs, in seed order (not sorted)."""
    entries = [
        _entry(item, iso=member.iso_dates)
        for item in member.schedule
        if item.program_id in scope.program_ids and _in_range(item, scope)
    ]
    triggers = [
        {"points": t.points, "programId": t.program_id, "pointsType": t.points_type}
        for t in member.triggers
        if t.program_id in scope.program_ids
    ]
    body: dict[str, object] = {
        "entityId": member.id,
        "entityType": scope.entity_type,
        "promisedPointsScheduleList": entries,
        "triggerBasedPointsList": triggers,
        "warnings": list(member.schedule_warnings),
    }
    return _finish(body, member)


def _in_range(item: ScheduleItem, scope: Scope) -> bool:
    # Inclusive, and only on the bounds actually passed (no implicit "from now"): the
    # documented examples return 2022 entries to requests that pass no dates.
    if scope.start is not None and item.redeemable_from < scope.start:
        return False
    return scope.end is None or item.redeemable_from <= scope.end


def _entry(item: ScheduleItem, *, iso: bool) -> dict[str, object]:
    entry: dict[str, object] = {
        "points": item.points,
        "redeemableFrom": item.redeemable_from.isoformat(),
    }
    if iso:
        # Midnight of the date in the cluster zone, with its offset (e.g. +05:30).
        moment = datetime.combine(item.redeemable_from, time(), tzinfo=CLUSTER_ZONE)
        entry["redeemableFromISO"] = moment.isoformat()
    entry["programId"] = item.program_id
    entry["pointsType"] = item.points_type
    return entry
