"""Turn raw upstream answers into typed results or typed errors; no I/O here.

Points are kept as Decimal exactly as sent. A required field that is missing or of the wrong
type raises MalformedResponse naming the field path (never a value, which could identify the
member).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any, NoReturn

from app.capillary.errors import (
    RETRYABLE_CODES,
    WARNING_CODES,
    CapillaryError,
    MalformedResponse,
    error_class_for,
)
from app.capillary.models import (
    Balance,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
    UpstreamMessage,
)
from app.capillary.transport import RETRY_STATUSES, RawResponse

# Far beyond any real balance; stops 1e308 and friends reaching arithmetic and templates.
MAX_POINTS = Decimal(10) ** 15
_LEGACY_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Reject(ValueError):
    """Raised inside json.loads for a value the upstream contract cannot contain."""


def _reject_constant(name: str) -> NoReturn:
    raise _Reject(f"non-finite number {name}")


def decode_json(raw: RawResponse) -> Any:
    """Parse a body as JSON with Decimal floats; raise MalformedResponse when it is not JSON."""
    if not raw.body.strip():
        _malformed(raw, "empty body")
    try:
        text = raw.body.decode("utf-8")
        return json.loads(text, parse_float=Decimal, parse_int=int, parse_constant=_reject_constant)
    except _Reject as exc:
        raise _malformed_error(raw, "body contains NaN or Infinity") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _malformed_error(raw, "body is not valid JSON") from exc


def interpret(raw: RawResponse) -> Mapping[str, Any]:
    """The JSON object of a successful answer; any other answer raises its typed error."""
    status = raw.status
    if 300 <= status < 400:
        _malformed(raw, f"upstream redirected (HTTP {status}); not followed")
    if not 200 <= status < 300:
        raise _status_error(raw)
    body = decode_json(raw)
    if not isinstance(body, dict):
        _malformed(raw, f"body is a JSON {_json_type(body)}, not an object")
    failing = _failing_entry(body, has_data=_has_data(body))
    if failing is not None:
        raise _api_error(raw, failing)
    return body


def should_retry(raw: RawResponse) -> bool:
    """True for a "try again later" answer: by its HTTP status, or by its errors[] code."""
    if raw.status in RETRY_STATUSES:
        return True
    # A body without the key cannot carry a code; skip decoding the common success.
    if b'"errors"' not in raw.body:
        return False
    try:
        body = decode_json(raw)
    except MalformedResponse:
        return False
    if not isinstance(body, dict):
        return False
    failing = _failing_entry(body, has_data=200 <= raw.status < 300 and _has_data(body))
    return failing is not None and failing.code in RETRYABLE_CODES


def parse_balance(body: Mapping[str, Any], raw: RawResponse) -> Balance:
    """Build a Balance from a points/balance body."""
    fields = _Fields(body, raw)
    breakup = fields.obj("promisedPointsBreakup")
    return Balance(
        entity_id=fields.integer("entityId"),
        entity_type=fields.text("entityType"),
        total_points=fields.points("totalPoints"),
        main_points=fields.points("mainPoints"),
        promised_points=fields.points("promisedPoints"),
        delayed_accrual_points=breakup.points("delayedAccrualPoints"),
        external_trigger_points=breakup.points("externalTriggerBasedPoints"),
        program_id=fields.optional_integer("programId"),
        warnings=_all_warnings(body, raw),
        request_id=raw.request_id,
    )


def parse_schedule(
    body: Mapping[str, Any], raw: RawResponse, cluster_tz: tzinfo
) -> PromisedSchedule:
    """Build a PromisedSchedule from a promisedPointsSchedule body."""
    fields = _Fields(body, raw)
    entries = tuple(
        _schedule_entry(item, cluster_tz) for item in fields.objects("promisedPointsScheduleList")
    )
    triggers = tuple(
        TriggerEntry(
            points=item.points("points"),
            program_id=item.integer("programId"),
            points_type=item.text("pointsType"),
        )
        for item in fields.objects("triggerBasedPointsList")
    )
    return PromisedSchedule(
        entity_id=fields.integer("entityId"),
        entity_type=fields.text("entityType"),
        entries=entries,
        triggers=triggers,
        warnings=_all_warnings(body, raw),
        request_id=raw.request_id,
    )


def parse_warnings(value: Any, raw: RawResponse) -> tuple[UpstreamMessage, ...]:
    """The warnings[] array as messages; a missing or null array is empty."""
    if value is None:
        return ()
    if not isinstance(value, list):
        _malformed(raw, "field 'warnings' is not a list")
    messages = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            _malformed(raw, f"field 'warnings[{index}]' is not an object")
        messages.append(_message(item))
    return tuple(messages)


def _schedule_entry(item: _Fields, cluster_tz: tzinfo) -> ScheduleEntry:
    return ScheduleEntry(
        points=item.points("points"),
        redeemable_from=item.redeemable_from(cluster_tz),
        program_id=item.integer("programId"),
        points_type=item.text("pointsType"),
        expiry_type=item.optional_text("expiryType"),
    )


class _Fields:
    """Typed access to one JSON object, naming the field path in every complaint."""

    def __init__(self, data: Mapping[str, Any], raw: RawResponse, path: str = "") -> None:
        self.data = data
        self.raw = raw
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _required(self, key: str) -> Any:
        value = self.data.get(key)
        if value is None:
            _malformed(self.raw, f"field '{self._name(key)}' is missing")
        return value

    def _wrong(self, key: str, expected: str) -> NoReturn:
        _malformed(self.raw, f"field '{self._name(key)}' is not {expected}")

    def integer(self, key: str) -> int:
        value = self._required(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "an integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def text(self, key: str) -> str:
        value = self._required(key)
        if not isinstance(value, str):
            self._wrong(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def points(self, key: str) -> Decimal:
        value = self._required(key)
        # bool is an int subclass; a quoted number is not what the contract sends.
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self._wrong(key, "a number")
        number = Decimal(value)
        if not number.is_finite() or abs(number) >= MAX_POINTS:
            self._wrong(key, "a plausible points figure")
        return number

    def obj(self, key: str) -> _Fields:
        value = self._required(key)
        if not isinstance(value, dict):
            self._wrong(key, "an object")
        return _Fields(value, self.raw, self._name(key))

    def objects(self, key: str) -> list[_Fields]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, "a list")
        items = []
        for index, item in enumerate(value):
            name = f"{self._name(key)}[{index}]"
            if not isinstance(item, dict):
                _malformed(self.raw, f"field '{name}' is not an object")
            items.append(_Fields(item, self.raw, name))
        return items

    def redeemable_from(self, cluster_tz: tzinfo) -> datetime:
        """redeemableFromISO when present, else the deprecated date at cluster midnight."""
        if self.data.get("redeemableFromISO") is not None:
            text = self.text("redeemableFromISO")
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                self._wrong("redeemableFromISO", "an ISO-8601 date-time")
            # The docs promise an offset; a bare local time is read in the cluster zone.
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=cluster_tz)
        text = self.text("redeemableFrom")
        if not _LEGACY_DATE.fullmatch(text):
            self._wrong("redeemableFrom", "a YYYY-MM-DD date")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self._wrong("redeemableFrom", "a YYYY-MM-DD date")
        return datetime.combine(day, time(0), tzinfo=cluster_tz)


def _message(item: Mapping[str, Any]) -> UpstreamMessage:
    code = item.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        code = int(code) if isinstance(code, str) and code.isdigit() else None
    message = item.get("message")
    return UpstreamMessage(code=code, message=message if isinstance(message, str) else "")


def _error_entries(body: Mapping[str, Any]) -> list[UpstreamMessage]:
    """The errors[] array as messages; anything but a list is no errors (the OAuth null)."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [
        _message(item) if isinstance(item, dict) else UpstreamMessage(None, "") for item in errors
    ]


def _has_data(body: Mapping[str, Any]) -> bool:
    """Whether a body carries a result: both endpoints' answers name the entity."""
    return body.get("entityId") is not None


def _failing_entry(body: Mapping[str, Any], *, has_data: bool) -> UpstreamMessage | None:
    """The errors[] entry that fails the call, or None.

    The first entry that is not a warning code; when every entry is a warning code (91009,
    a merged member's survivor retrieved), the call fails only if no data came with them.
    """
    entries = _error_entries(body)
    for entry in entries:
        if entry.code not in WARNING_CODES:
            return entry
    return entries[0] if entries and not has_data else None


def _all_warnings(body: Mapping[str, Any], raw: RawResponse) -> tuple[UpstreamMessage, ...]:
    """warnings[], then the warning-coded errors[] entries interpret() let through."""
    return parse_warnings(body.get("warnings"), raw) + tuple(_error_entries(body))


def _api_error(raw: RawResponse, first: UpstreamMessage) -> CapillaryError:
    # code is the upstream's own errors[] code or None, never the HTTP status standing in
    # for one: pages show "Code n" as an upstream code. The status travels in status.
    code = first.code
    cls = error_class_for(code, raw.status)
    text = f"{raw.label}: HTTP {raw.status}"
    if code is not None:
        text += f", code {code}"
    if first.message:
        text += f": {first.message}"
    return cls(text, code=code, status=raw.status, request_id=raw.request_id)


def _status_error(raw: RawResponse) -> CapillaryError:
    """Error for a non-2xx answer: its errors[] entry if the body has one, else the status.

    A non-2xx whose body is not JSON (a gateway's HTML page, say) is classed by its status,
    not as MalformedResponse: "503 unavailable" is the truer and more useful report.
    """
    try:
        body = decode_json(raw)
    except MalformedResponse:
        body = None
    failing = _failing_entry(body, has_data=False) if isinstance(body, dict) else None
    return _api_error(raw, failing or UpstreamMessage(None, ""))


def _json_type(value: Any) -> str:
    return "array" if isinstance(value, list) else type(value).__name__


def _malformed_error(raw: RawResponse, why: str) -> MalformedResponse:
    return MalformedResponse(
        f"{raw.label}: {why}", code=None, status=raw.status, request_id=raw.request_id
    )


def _malformed(raw: RawResponse, why: str) -> NoReturn:
    raise _malformed_error(raw, why)
