"""What every upstream answer is wrapped in: JSON decoding, its errors[] and warnings[], and an
HTTP status or error code turned into its typed error. No I/O here; parse.py builds the typed
results from what this lets through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn

from app.capillary.errors import (
    CDN_STATUSES,
    ERROR_CODES_AMONG_WARNINGS,
    POINTS_NOT_FETCHED_CODE,
    WARNING_CODES,
    CapillaryError,
    MalformedResponse,
    PointsNotFetched,
    RateLimited,
    UpstreamUnreachable,
    error_class_for,
)
from app.capillary.models import UpstreamMessage
from app.capillary.policy import RETRY_POLICY
from app.capillary.retry_after import parse_retry_after
from app.capillary.transport import RawResponse

# The start of an HTML page (a CDN's error or block page, a captive portal): never JSON.
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body|title|!--)", re.I
)
# The documented authorisation refusal as text ([AUTHZ]): "HttpStatusCode=403
# errorMessage=Not authorized. Access is denied! errorCode=4000".
_TEXT_CODE = re.compile(r"\berrorCode\s*[=:]\s*\"?(\d{1,9})\b")
_TEXT_MESSAGE = re.compile(r"\berrorMessage\s*[=:]\s*\"?(.*?)\"?(?=\s+[A-Za-z]+\s*[=:]|,|$)")
# How much of a text body is searched for those fields.
_TEXT_SCAN_BYTES = 4096


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


def interpret(raw: RawResponse, *, allow_list: bool = False) -> Any:
    """The JSON object of a successful answer (or array, where allow_list: the program
    list may be one); any other answer raises its typed error."""
    status = raw.status
    if 300 <= status < 400:
        malformed(raw, f"upstream redirected (HTTP {status}); not followed")
    if from_something_in_front(raw):
        raise unreachable_error(raw)
    if not 200 <= status < 300:
        raise status_error(raw)
    try:
        body = decode_json(raw)
    except MalformedResponse:
        # The documented text refusal can come with any status, a 200 included.
        entry = text_entry(raw)
        if entry is None:
            raise
        raise api_error(raw, entry) from None
    if allow_list and isinstance(body, list):
        return body
    if not isinstance(body, dict):
        malformed(raw, f"body is a JSON {json_type(body)}, not an object")
    failing = failing_entry(body, has_data=has_data(body)) or field_entry(body)
    if failing is not None:
        raise api_error(raw, failing)
    if any(entry.code == POINTS_NOT_FETCHED_CODE for entry in every_entry(body, raw)):
        raise PointsNotFetched(
            f"{raw.label}: HTTP {status}, code {POINTS_NOT_FETCHED_CODE}: the answer says its "
            "point details were not fetched",
            code=POINTS_NOT_FETCHED_CODE,
            status=status,
            request_id=raw.request_id,
        )
    return body


def is_html(raw: RawResponse) -> bool:
    """Whether the body is an HTML page (by its Content-Type or its first bytes)."""
    if raw.content_type and "html" in raw.content_type.lower():
        return True
    return bool(_HTML_START.match(raw.body[:512]))


def from_something_in_front(raw: RawResponse) -> bool:
    """An answer from a CDN or proxy in front of the API, not from the API: an HTML page
    where JSON belongs (a 200, a 403 block page, a 5xx error page), or a CDN's 520-524
    with no JSON. A Capillary 521 ("another action running") carries JSON or nothing."""
    status = raw.status
    if is_html(raw):
        return 200 <= status < 300 or status == 403 or status >= 500
    return status in CDN_STATUSES and status != 521 and not raw.body.lstrip().startswith(b"{")


def unreachable_error(raw: RawResponse) -> UpstreamUnreachable:
    what = "an HTML page" if is_html(raw) else "no API answer"
    return UpstreamUnreachable(
        f"{raw.label}: HTTP {raw.status} with {what}: something in front of the API answered",
        code=None,
        status=raw.status,
        request_id=raw.request_id,
    )


def every_entry(body: Mapping[str, Any], raw: RawResponse) -> tuple[UpstreamMessage, ...]:
    """warnings[] and errors[] together, whatever each holds."""
    warnings = body.get("warnings")
    listed = warnings if isinstance(warnings, list) else []
    return tuple(message_of(item) for item in listed if isinstance(item, dict)) + tuple(
        error_entries(body)
    )


def field_entry(body: Mapping[str, Any]) -> UpstreamMessage | None:
    """An errorCode / errorMessage pair at the top of a body (the [AUTHZ] refusal as JSON);
    a warnings[] entry with an error code; or None."""
    code = body.get("errorCode")
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool):
        message = body.get("errorMessage")
        return UpstreamMessage(code, message if isinstance(message, str) else "")
    warnings = body.get("warnings")
    for item in warnings if isinstance(warnings, list) else []:
        if isinstance(item, dict):
            entry = message_of(item)
            if entry.code in ERROR_CODES_AMONG_WARNINGS:
                return entry
    return None


def text_entry(raw: RawResponse) -> UpstreamMessage | None:
    """errorCode=NNNN (and errorMessage=...) in a body that is not JSON, as [AUTHZ] shows."""
    text = raw.body[:_TEXT_SCAN_BYTES].decode("utf-8", "replace")
    found = _TEXT_CODE.search(text)
    if found is None:
        return None
    message = _TEXT_MESSAGE.search(text)
    return UpstreamMessage(int(found.group(1)), message.group(1).strip() if message else "")


def failing_code(raw: RawResponse) -> int | None:
    """The upstream's own code of a failing answer, from whichever form its body takes."""
    try:
        body = decode_json(raw)
    except MalformedResponse:
        entry = text_entry(raw)
        return entry.code if entry else None
    if not isinstance(body, dict):
        return None
    ok = 200 <= raw.status < 300
    failing = failing_entry(body, has_data=ok and has_data(body)) or field_entry(body)
    return failing.code if failing is not None else None


def should_retry(raw: RawResponse) -> bool:
    """True for a "try again later" answer: by its HTTP status, or by its errors[] code."""
    if raw.status in RETRY_POLICY.statuses:
        return True
    # A body without an error key cannot carry a code; skip decoding the common success.
    if b'"errors"' not in raw.body and b"errorCode" not in raw.body:
        return False
    return failing_code(raw) in RETRY_POLICY.codes


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
    """Whether a body carries a result: the answers name the member as entityId (balance,
    schedule) or id (customer details, points expiry)."""
    return body.get("entityId") is not None or body.get("id") is not None


def failing_entry(body: Mapping[str, Any], *, has_data: bool) -> UpstreamMessage | None:
    """The errors[] entry that fails the call, or None.

    The first entry that is not a warning code; when every entry is a warning code (8069,
    a merged customer found, say), the call fails only if no data came with them.
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
    if isinstance(body, dict):
        failing = failing_entry(body, has_data=False) or field_entry(body)
    else:
        failing = text_entry(raw) if body is None else None
    return api_error(raw, failing or UpstreamMessage(None, ""))


def json_type(value: Any) -> str:
    return "array" if isinstance(value, list) else type(value).__name__


def malformed_error(raw: RawResponse, why: str) -> MalformedResponse:
    return MalformedResponse(
        f"{raw.label}: {why}", code=None, status=raw.status, request_id=raw.request_id
    )


def malformed(raw: RawResponse, why: str) -> NoReturn:
    raise malformed_error(raw, why)
