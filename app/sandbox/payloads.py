"""Success bodies of the balance and schedule endpoints, in the documented shapes."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from app.sandbox.data import CLUSTER_TIMEZONE, Member, ScheduleItem, balance_for
from app.sandbox.params import Scope

CLUSTER_ZONE = ZoneInfo(CLUSTER_TIMEZONE)


def balance_body(member: Member, scope: Scope) -> dict[str, object]:
    """capillary-api.md 1.5: one flat object, summed when several programs are in scope."""
    # The 2022 docs also showed a top-level programId; the current ones do not, and the
    # documented example must match field for field, so it is left out.
    balance = balance_for(member, scope.program_ids)
    return {
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
    return {
        "entityId": member.id,
        "entityType": scope.entity_type,
        "promisedPointsScheduleList": entries,
        "triggerBasedPointsList": triggers,
        "warnings": list(member.schedule_warnings),
    }


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
