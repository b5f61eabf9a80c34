"""Outcomes to and from JSON, for caches shared between servers.

Explicit on purpose, never pickle: whoever can write to a shared cache must not be able to
make this app run code. Points travel as Decimal strings (exact), times as ISO 8601 with the
zone's name when it has one (so "IST" stays "IST", not a bare "+05:30"), errors as the name
of a known CapillaryError subclass with its code, status, message and request id. Besides
outcomes the cache holds member ids (the last-known identifier map,
app/lookup/fetching/last_known.py); encode_entry and decode_entry take either.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.capillary import errors as capillary_errors
from app.capillary.models import (
    Balance,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
    UpstreamMessage,
)
from app.lookup.fetching import story_codec
from app.lookup.fetching.outcome import Outcome

FORMAT_VERSION = 1

# Only these classes can come back out of the cache; an unknown name is a decode error.
ERROR_CLASSES: dict[str, type[capillary_errors.CapillaryError]] = {
    cls.__name__: cls
    for cls in vars(capillary_errors).values()
    if isinstance(cls, type) and issubclass(cls, capillary_errors.CapillaryError)
}


class CodecError(ValueError):
    """A cached value that is not an outcome this version wrote; treat as a miss."""


def encode_outcome(outcome: Outcome[Any]) -> bytes:
    """One outcome as compact JSON bytes."""
    document = {
        "v": FORMAT_VERSION,
        "at": _time(outcome.fetched_at),
        "value": _value(outcome.value),
        "error": _error(outcome.error),
    }
    return json.dumps(document, separators=(",", ":")).encode()


def encode_entry(entry: Outcome[Any] | int) -> bytes:
    """An outcome, or a member id (of the identifier map), as compact JSON bytes."""
    if isinstance(entry, Outcome):
        if entry.stale:
            # Only fresh outcomes are cached: a last-known one is made anew on each read.
            raise ValueError("a last-known outcome is never cached")
        return encode_outcome(entry)
    if isinstance(entry, int) and not isinstance(entry, bool):
        return json.dumps({"v": FORMAT_VERSION, "member_id": entry}, separators=(",", ":")).encode()
    raise TypeError(f"cannot encode a {type(entry).__name__}")


def decode_entry(raw: bytes | str) -> Outcome[Any] | int:
    """The outcome or member id encode_entry wrote, or CodecError."""
    document = _document(raw)
    if "member_id" not in document:
        return _outcome(document)
    member_id = document["member_id"]
    if not isinstance(member_id, int) or isinstance(member_id, bool) or member_id <= 0:
        raise CodecError("a cached member id is not a positive whole number")
    return member_id


def decode_outcome(raw: bytes | str) -> Outcome[Any]:
    """The outcome encode_outcome wrote, or CodecError."""
    return _outcome(_document(raw))


def _document(raw: bytes | str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"cached entry cannot be read ({type(exc).__name__})") from exc
    if not isinstance(document, dict) or document.get("v") != FORMAT_VERSION:
        raise CodecError("not an entry of this format version")
    return document


def _outcome(document: dict[str, Any]) -> Outcome[Any]:
    try:
        return Outcome(
            _read_value(document["value"]),
            _read_error(document["error"]),
            _read_time(document["at"]),
        )
    except CodecError:
        raise
    # ArithmeticError: Decimal("x") raises decimal.InvalidOperation, which is not a
    # ValueError. RecursionError: absurdly nested JSON. Either way the entry is damaged.
    except (ValueError, ArithmeticError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise CodecError(f"cached outcome cannot be read ({type(exc).__name__})") from exc


def _time(moment: datetime) -> list[str | None]:
    if moment.tzinfo is None:
        raise ValueError("outcomes hold timezone-aware times only")
    zone = moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else None
    return [moment.isoformat(), zone]


def _read_time(item: list[str | None]) -> datetime:
    text, zone = item
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise CodecError("a cached time has no zone")
    return moment.astimezone(ZoneInfo(zone)) if zone else moment


def _read_points(text: Any) -> Decimal:
    """Points as encode wrote them: an exact decimal string, never NaN or infinite."""
    if not isinstance(text, str):
        raise CodecError("cached points are not a decimal string")
    points = Decimal(text)
    if not points.is_finite():
        # NaN or Infinity would pass silently here and break sums and the chart later.
        raise CodecError("cached points are not a finite number")
    return points


def _messages(messages: tuple[UpstreamMessage, ...]) -> list[list[Any]]:
    return [[m.code, m.message] for m in messages]


def _read_messages(items: list[list[Any]]) -> tuple[UpstreamMessage, ...]:
    return tuple(UpstreamMessage(code, str(message)) for code, message in items)


def _value(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Balance):
        return {
            "type": "balance",
            "entity_id": value.entity_id,
            "entity_type": value.entity_type,
            # null: a figure the answer left out ("not known").
            "points": [
                None if points is None else str(points)
                for points in (
                    value.total_points,
                    value.main_points,
                    value.promised_points,
                    value.delayed_accrual_points,
                    value.external_trigger_points,
                )
            ],
            "program_id": value.program_id,
            "warnings": _messages(value.warnings),
            "request_id": value.request_id,
        }
    if isinstance(value, PromisedSchedule):
        return {
            "type": "schedule",
            "entity_id": value.entity_id,
            "entity_type": value.entity_type,
            "entries": [
                [
                    str(e.points),
                    _time(e.redeemable_from),
                    e.program_id,
                    e.points_type,
                    e.expiry_type,
                ]
                for e in value.entries
            ],
            "triggers": [[str(t.points), t.program_id, t.points_type] for t in value.triggers],
            "warnings": _messages(value.warnings),
            "request_id": value.request_id,
        }
    if isinstance(value, story_codec.StoryValue):
        return story_codec.encode(value)
    raise TypeError(f"cannot encode a {type(value).__name__}")


def _read_value(item: dict[str, Any] | None) -> Any:
    if item is None:
        return None
    kind = item["type"]
    if kind in story_codec.TYPES:
        return story_codec.decode(item)
    if kind == "balance":
        total, main, promised, delayed, trigger = (
            None if p is None else _read_points(p) for p in item["points"]
        )
        return Balance(
            entity_id=int(item["entity_id"]),
            entity_type=str(item["entity_type"]),
            total_points=total,
            main_points=main,
            promised_points=promised,
            delayed_accrual_points=delayed,
            external_trigger_points=trigger,
            program_id=item["program_id"],
            warnings=_read_messages(item["warnings"]),
            request_id=item["request_id"],
        )
    if kind == "schedule":
        return PromisedSchedule(
            entity_id=int(item["entity_id"]),
            entity_type=str(item["entity_type"]),
            entries=tuple(
                ScheduleEntry(_read_points(points), _read_time(at), int(program), kind_, expiry)
                for points, at, program, kind_, expiry in item["entries"]
            ),
            triggers=tuple(
                TriggerEntry(_read_points(points), int(program), kind_)
                for points, program, kind_ in item["triggers"]
            ),
            warnings=_read_messages(item["warnings"]),
            request_id=item["request_id"],
        )
    raise CodecError(f"unknown cached value type {kind!r}")


def _error(error: capillary_errors.CapillaryError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "class": type(error).__name__,
        "message": error.message,
        "code": error.code,
        "status": error.status,
        "request_id": error.request_id,
    }


def _read_error(item: dict[str, Any] | None) -> capillary_errors.CapillaryError | None:
    if item is None:
        return None
    cls = ERROR_CLASSES.get(item["class"])
    if cls is None:
        raise CodecError("unknown cached error class")
    return cls(
        str(item["message"]),
        code=item["code"],
        status=item["status"],
        request_id=item["request_id"],
    )
