"""What every upstream answer is wrapped in: JSON decoding, its errors[] and warnings[], and an
HTTP status or error code turned into its typed error. No I/O here; parse.py builds the typed
results from what this lets through.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn

from app.capillary.errors import (
    WARNING_CODES,
    CapillaryError,
    MalformedResponse,
    RateLimited,
    error_class_for,
)
from app.capillary.models import UpstreamMessage
from app.capillary.policy import RETRY_POLICY
from app.capillary.retry_after import parse_retry_after
from app.capillary.transport import RawResponse


class _Reject(ValueError):
    """Raised inside json.loads for a value the upstream contract cannot contain."""


def _reject_constant(name: str) -> NoReturn:
    raise _Reject(f"non-finite number {name}")


def decode_json(raw: RawResponse) -> Any:
    """Parse a body as JSON with Decimal floats; raise MalformedResponse when it is not JSON."""
    if not raw.body.strip():
        malformed(raw, "empty body")
    try:
        text = raw.body.decode("utf-8")
        return json.loads(text, parse_float=Decimal, parse_int=int, parse_constant=_reject_constant)
    except _Reject as exc:
        raise malformed_error(raw, "body contains NaN or Infinity") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise malformed_error(raw, "body is not valid JSON") from exc


def interpret(raw: RawResponse) -> Mapping[str, Any]:
    """The JSON object of a successful answer; any other answer raises its typed error."""
    status = raw.status
    if 300 <= status < 400:
        malformed(raw, f"upstream redirected (HTTP {status}); not followed")
    if not 200 <= status < 300:
        raise status_error(raw)
    body = decode_json(raw)
    if not isinstance(body, dict):
        malformed(raw, f"body is a JSON {json_type(body)}, not an object")
    failing = failing_entry(body, has_data=has_data(body))
    if failing is not None:
        raise api_error(raw, failing)
    return body


def should_retry(raw: RawResponse) -> bool:
    """True for a "try again later" answer: by its HTTP status, or by its errors[] code."""
    if raw.status in RETRY_POLICY.statuses:
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
    failing = failing_entry(body, has_data=200 <= raw.status < 300 and has_data(body))
    return failing is not None and failing.code in RETRY_POLICY.codes


def parse_warnings(value: Any, raw: RawResponse) -> tuple[UpstreamMessage, ...]:
    """The warnings[] array as messages; a missing or null array is empty."""
    if value is None:
        return ()
    if not isinstance(value, list):
        malformed(raw, "field 'warnings' is not a list")
    messages = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            malformed(raw, f"field 'warnings[{index}]' is not an object")
        messages.append(message_of(item))
    return tuple(messages)


def message_of(item: Mapping[str, Any]) -> UpstreamMessage:
    code = item.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        code = int(code) if isinstance(code, str) and code.isdigit() else None
    message = item.get("message")
    return UpstreamMessage(code=code, message=message if isinstance(message, str) else "")


def error_entries(body: Mapping[str, Any]) -> list[UpstreamMessage]:
    """The errors[] array as messages; anything but a list is no errors (the OAuth null)."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [
        message_of(item) if isinstance(item, dict) else UpstreamMessage(None, "") for item in errors
    ]


def has_data(body: Mapping[str, Any]) -> bool:
    """Whether a body carries a result: both endpoints' answers name the entity."""
    return body.get("entityId") is not None


def failing_entry(body: Mapping[str, Any], *, has_data: bool) -> UpstreamMessage | None:
    """The errors[] entry that fails the call, or None.

    The first entry that is not a warning code; when every entry is a warning code (91009,
    a merged member's survivor retrieved), the call fails only if no data came with them.
    """
    entries = error_entries(body)
    for entry in entries:
        if entry.code not in WARNING_CODES:
            return entry
    return entries[0] if entries and not has_data else None


def all_warnings(body: Mapping[str, Any], raw: RawResponse) -> tuple[UpstreamMessage, ...]:
    """warnings[], then the warning-coded errors[] entries interpret() let through."""
    return parse_warnings(body.get("warnings"), raw) + tuple(error_entries(body))


def api_error(raw: RawResponse, first: UpstreamMessage) -> CapillaryError:
    # code is the upstream's own errors[] code or None, never the HTTP status standing in
    # for one: pages show "Code n" as an upstream code. The status travels in status.
    code = first.code
    cls = error_class_for(code, raw.status)
    text = f"{raw.label}: HTTP {raw.status}"
    if code is not None:
        text += f", code {code}"
    if first.message:
        text += f": {first.message}"
    if cls is RateLimited:
        seconds, moment = parse_retry_after(raw.retry_after)
        return RateLimited(
            text,
            code=code,
            status=raw.status,
            request_id=raw.request_id,
            retry_after=seconds,
            retry_at=moment,
        )
    return cls(text, code=code, status=raw.status, request_id=raw.request_id)


def status_error(raw: RawResponse) -> CapillaryError:
    """Error for a non-2xx answer: its errors[] entry if the body has one, else the status.

    A non-2xx whose body is not JSON (a gateway's HTML page, say) is classed by its status,
    not as MalformedResponse: "503 unavailable" is the truer and more useful report.
    """
    try:
        body = decode_json(raw)
    except MalformedResponse:
        body = None
    failing = failing_entry(body, has_data=False) if isinstance(body, dict) else None
    return api_error(raw, failing or UpstreamMessage(None, ""))


def json_type(value: Any) -> str:
    return "array" if isinstance(value, list) else type(value).__name__


def malformed_error(raw: RawResponse, why: str) -> MalformedResponse:
    return MalformedResponse(
        f"{raw.label}: {why}", code=None, status=raw.status, request_id=raw.request_id
    )


def malformed(raw: RawResponse, why: str) -> NoReturn:
    raise malformed_error(raw, why)
