"""The member-story values (customer details, expiry schedule, a ledger page) to and from the
JSON a shared cache holds; codec.py hands them here. Explicit fields, never pickle; points as
exact decimal strings, times as ISO 8601 with the zone's name when it has one."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.capillary import (
    ExpiryEntry,
    ExpirySchedule,
    LedgerEvent,
    LedgerPage,
    LedgerPart,
    MemberProfile,
    ProgramTier,
    UpstreamMessage,
)

TYPES = ("profile", "expiry", "ledger")
StoryValue = MemberProfile | ExpirySchedule | LedgerPage


def encode(value: StoryValue) -> dict[str, Any]:
    """One story value as plain JSON data, tagged with its type."""
    common = {"warnings": [[m.code, m.message] for m in value.warnings], "rid": value.request_id}
    if isinstance(value, MemberProfile):
        return {
            "type": "profile",
            "entity_id": value.entity_id,
            "name": [value.first_name, value.last_name],
            "tiers": [
                [t.program_id, t.program_title, t.current_tier, t.next_tier, _time(t.tier_expires)]
                for t in value.tiers
            ],
            **common,
        }
    if isinstance(value, ExpirySchedule):
        return {
            "type": "expiry",
            "entity_id": value.entity_id,
            "entries": [
                [str(e.points), _time(e.expires_at), e.program_id, e.points_type, e.expiry_type]
                for e in value.entries
            ],
            **common,
        }
    return {
        "type": "ledger",
        "page": [value.page_number, value.page_size, value.total_entries, value.page_count],
        "incomplete": value.incomplete,
        "events": [
            [
                e.event_id,
                e.event_name,
                _time(e.created_at),
                [
                    [p.entry_type, str(p.points), p.category, p.program_id, p.program_name]
                    for p in e.parts
                ],
                None if e.net_points is None else str(e.net_points),
                e.store,
                e.till_code,
            ]
            for e in value.events
        ],
        **common,
    }


def decode(item: dict[str, Any]) -> StoryValue:
    """The value encode wrote; ValueError, KeyError or TypeError when it is damaged."""
    warnings = tuple(UpstreamMessage(code, str(text)) for code, text in item["warnings"])
    kind = item["type"]
    if kind == "profile":
        first, last = item["name"]
        return MemberProfile(
            entity_id=int(item["entity_id"]),
            first_name=first,
            last_name=last,
            tiers=tuple(
                ProgramTier(int(pid), title, cur, nxt, _read_time(at))
                for pid, title, cur, nxt, at in item["tiers"]
            ),
            warnings=warnings,
            request_id=item["rid"],
        )
    if kind == "expiry":
        return ExpirySchedule(
            entity_id=int(item["entity_id"]),
            entries=tuple(
                ExpiryEntry(_points(points), _required_time(at), int(pid), str(ptype), etype)
                for points, at, pid, ptype, etype in item["entries"]
            ),
            warnings=warnings,
            request_id=item["rid"],
        )
    if kind == "ledger":
        number, size, total, count = (int(n) for n in item["page"])
        return LedgerPage(
            page_number=number,
            page_size=size,
            total_entries=total,
            page_count=count,
            events=tuple(
                LedgerEvent(
                    event_id,
                    str(name),
                    _required_time(at),
                    tuple(
                        LedgerPart(str(kind_), _points(points), category, pid, pname)
                        for kind_, points, category, pid, pname in parts
                    ),
                    None if net is None else _points(net),
                    store,
                    till,
                )
                for event_id, name, at, parts, net, store, till in item["events"]
            ),
            incomplete=bool(item["incomplete"]),
            warnings=warnings,
            request_id=item["rid"],
        )
    raise ValueError(f"unknown cached story type {kind!r}")


def _points(text: Any) -> Decimal:
    if not isinstance(text, str):
        raise ValueError("cached points are not a decimal string")
    points = Decimal(text)
    if not points.is_finite():
        raise ValueError("cached points are not a finite number")
    return points


def _time(moment: datetime | None) -> list[str | None] | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("story values hold timezone-aware times only")
    zone = moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else None
    return [moment.isoformat(), zone]


def _read_time(item: list[str | None] | None) -> datetime | None:
    if item is None:
        return None
    text, zone = item
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError("a cached time has no zone")
    return moment.astimezone(ZoneInfo(zone)) if zone else moment


def _required_time(item: list[str | None] | None) -> datetime:
    moment = _read_time(item)
    if moment is None:
        raise ValueError("a cached time is missing")
    return moment
