"""The member-story endpoints (capillary-api.md 7.3): customer details (name, tier per program
with embed=mlp), the points-expiry schedule and the points ledger, shaped as documented:
`id` instead of `entityId`, ledger points as strings, pages, 11002 and 11003."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import Blueprint, Response, request

from app.sandbox.data import ORG_PROGRAMS, Member
from app.sandbox.encoding import format_points
from app.sandbox.faults import ALL_FAILED_BODY, json_response
from app.sandbox.params import ApiError, find_by_id, find_by_lookup, parse_scope
from app.sandbox.routes import canned, state
from app.sandbox.story_data import ZONE, LedgerItem, Story, build_stories

bp = Blueprint("sandbox_story", __name__)

ENDPOINT_KINDS: dict[str, str] = {
    "sandbox_story.customer_by_id": "customer",
    "sandbox_story.customer_lookup": "customer",
    "sandbox_story.expiry_by_id": "expiry",
    "sandbox_story.expiry_lookup": "expiry",
    "sandbox_story.ledger": "ledger",
}
KINDS = ("customer", "expiry", "ledger")

LEDGER_IDENTIFIERS = ("id", "email", "mobile", "externalId")
LEDGER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
LEDGER_MAX_DAYS = 60
LEDGER_DEFAULT_LIMIT = 10
LEDGER_MAX_LIMIT = 100
DUAL_ELIGIBILITY_BODY = {
    "warnings": [],
    "errors": [
        {
            "status": False,
            "code": 500,
            "message": "Points expiry schedule is not available when dual eligibility is enabled",
        }
    ],
}


def _every_call(member: Member) -> Response | None:
    """A shape member whose every call is answered by one fault (a refusal, a CDN page)
    gets it from these endpoints too."""
    if member.balance_answer and member.balance_answer == member.schedule_answer:
        return canned(member.balance_answer)
    return None


def _story(member: Member) -> Story:
    stories = build_stories(state().today)
    return stories.get(member.id) or Story(first_name="", last_name="")


@bp.get("/v2/customers/<user_id>")
def customer_by_id(user_id: str) -> Response:
    """Customer details of the member with this Capillary id."""
    return _customer(find_by_id(state().members, user_id))


@bp.get("/v2/customers/lookup/customerDetails")
def customer_lookup() -> Response:
    """Customer details of the member named by source + identifier(s)."""
    return _customer(find_by_lookup(state().members, request.args))


def _customer(member: Member) -> Response:
    refused = _every_call(member)
    if refused is not None:
        return refused
    story = _story(member)
    embeds = {part.strip() for part in request.args.get("embed", "").split(",")}
    profile: dict[str, object] = {
        "firstName": story.first_name,
        "lastName": story.last_name,
        "identifiers": [
            {"type": name, "value": value} for name, value in member.info.identifiers.items()
        ],
    }
    body: dict[str, object] = {"id": member.id, "profiles": [profile]}
    if "mlp" in embeds:
        body["loyaltyProgramDetails"] = [
            {
                "programId": tier.program_id,
                "programTitle": ORG_PROGRAMS.get(tier.program_id, ""),
                "currentSlab": tier.current,
                "nextSlab": tier.next or "",
                "slabExpiryDate": tier.expires.isoformat() if tier.expires else None,
                "loyaltyPoints": member.main_points.get(tier.program_id, 0),
            }
            for tier in story.tiers
        ]
    body["warnings"] = []
    return json_response(body, 200)


@bp.get("/v2/customers/<user_id>/pointsExpirySchedule")
def expiry_by_id(user_id: str) -> Response:
    """Upcoming point expiries of the member with this Capillary id."""
    return _expiry(find_by_id(state().members, user_id))


@bp.get("/v2/customers/lookup/pointsExpirySchedule")
def expiry_lookup() -> Response:
    """Upcoming point expiries of the member named by source + identifier(s)."""
    return _expiry(find_by_lookup(state().members, request.args))


def _expiry(member: Member) -> Response:
    refused = _every_call(member)
    if refused is not None:
        return refused
    current = state()
    scope = parse_scope(request.args, current.today, with_dates=True)
    story = _story(member)
    if story.expiry_fails:
        return json_response(ALL_FAILED_BODY, 500)
    if story.dual_eligibility:
        return json_response(DUAL_ELIGIBILITY_BODY, 500)
    entries = [
        e
        for e in sorted(story.expiries, key=lambda e: e.at)
        if e.program_id in scope.program_ids
        and (scope.start is None or e.at.date() >= scope.start)
        and (scope.end is None or e.at.date() <= scope.end)
    ]
    if request.args.get("fetchEarliestExpiryOnly", "").lower() == "true":
        seen: set[tuple[int, str, str]] = set()
        firsts = []
        for e in entries:
            if (e.program_id, e.points_type, e.expiry_type) not in seen:
                seen.add((e.program_id, e.points_type, e.expiry_type))
                firsts.append(e)
        entries = firsts
    body = {
        "id": member.id,
        "expirySchedules": [
            {
                "points": e.points,
                "expiryDate": e.at.date().isoformat(),
                "expiryDateISO": e.at.isoformat(),
                "programId": e.program_id,
                "pointsType": e.points_type,
                "expiryType": e.expiry_type,
            }
            for e in entries
        ],
        "warnings": [],
    }
    return json_response(body, 200)


@bp.get("/v2/pointsLedger/getCustomerLedgerInfo")
def ledger() -> Response:
    """One page of the member's points ledger, newest first, within a window of 60 days."""
    current = state()
    args = request.args
    member = _ledger_member(args)
    limit = _whole(args.get("limit"), LEDGER_DEFAULT_LIMIT, "limit")
    offset = _whole(args.get("offset"), 0, "offset")
    if not 1 <= limit <= LEDGER_MAX_LIMIT:
        raise ApiError(400, f"limit must be 1 to {LEDGER_MAX_LIMIT}")
    now = current.clock.now().astimezone(ZONE)
    end = _moment(args.get("endDate"), "endDate") or now
    start = _moment(args.get("startDate"), "startDate") or end - timedelta(days=LEDGER_MAX_DAYS)
    if start > end:
        raise ApiError(1214)
    if end - start > timedelta(days=LEDGER_MAX_DAYS):
        raise ApiError(11010, f"Date range cannot be more than {LEDGER_MAX_DAYS} days")
    program = args.get("programId")
    story = _story(member)
    items = [
        item
        for item in story.ledger
        if start <= item.at <= end
        and (not program or any(str(line.program_id) == program for line in item.lines))
    ]
    page = items[offset * limit : (offset + 1) * limit]
    body: dict[str, object] = {
        "ledgerDetails": {
            "pageNumber": offset,
            "pageSize": limit,
            "totalEntries": len(items),
            "pageCount": math.ceil(len(items) / limit),
        },
        "ledgerEntries": [_ledger_entry(item) for item in page],
        "warnings": [],
    }
    if story.ledger_pending:
        body["warnings"] = [
            {
                "status": False,
                "code": 11002,
                "message": "There are pending events, the ledger may be incomplete",
            }
        ]
    if not items:
        body["errors"] = [{"status": False, "code": 11003, "message": "No ledger entries found"}]
    return json_response(body, 200)


def _ledger_member(args: Mapping[str, str]) -> Member:
    name = args.get("identifierName")
    value = args.get("identifierValue")
    if not args.get("source"):
        raise ApiError(400, "source is required")
    if not name or not value:
        raise ApiError(400, "No identifier provided")
    if name not in LEDGER_IDENTIFIERS:
        raise ApiError(8013, f"Invalid identifierName {name!r}")
    if name == "id":
        return find_by_id(state().members, value)
    return find_by_lookup(
        state().members,
        {"source": args["source"], "identifierName": name, "identifierValue": value},
    )


def _whole(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise ApiError(400, f"Invalid value for {name}")
    return int(raw)


def _moment(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        return datetime.strptime(raw, LEDGER_TIME_FORMAT).replace(tzinfo=ZONE)
    except ValueError:
        raise ApiError(400, f"{name} must be yyyy-MM-ddTHH:mm:ss") from None


def _ledger_entry(item: LedgerItem) -> dict[str, object]:
    return {
        "eventLogId": item.event_id,
        "eventName": item.event_name,
        "ledgerCreatedDate": item.at.strftime("%Y-%m-%d %H:%M:%S"),
        "ledgerCreatedDateISO": item.at.isoformat(),
        "entryDetails": [
            {
                "ledgerEntryType": line.entry_type,
                # The ledger writes points as strings (capillary-api.md 7.1).
                "points": format_points(line.points),
                "pointsCategory": line.category,
                "programId": line.program_id,
                "programName": ORG_PROGRAMS.get(line.program_id, ""),
            }
            for line in item.lines
        ],
        "netPointsOnEvent": item.net,
        "store": item.store,
        "tillCode": item.till,
    }
