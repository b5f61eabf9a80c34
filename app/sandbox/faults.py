"""Injected failures: what each fault mode answers, and which endpoints it hits."""

from __future__ import annotations

from flask import Response

from app.sandbox.encoding import dumps

FAULT_MODES = ("error", "unavailable", "slow", "malformed", "html")
FAULT_TARGETS = ("balance", "schedule", "oauth", "customer", "expiry", "ledger")

# The documented whole-request failure body (capillary-api.md 4.1).
ALL_FAILED_BODY = {
    "warnings": [],
    "errors": [{"status": False, "message": "All requests have failed due to errors", "code": 500}],
}
UNAVAILABLE_BODY = {
    "warnings": [],
    "errors": [{"status": False, "code": 503, "message": "Service temporarily unavailable"}],
}
# A body cut off mid-number, as a dropped proxy connection would leave it.
TRUNCATED_BODY = '{"entityId": 565039505, "entityType": "CUSTOMER", "totalPoints": 85'
GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
RETRY_AFTER_SECONDS = 3600


def check_fault(fault: str | None) -> None:
    """Reject an unknown fault mode."""
    if fault is not None and fault not in FAULT_MODES:
        raise ValueError(f"unknown fault {fault!r}; expected one of {FAULT_MODES} or None")


def check_fault_on(fault_on: str | None) -> None:
    """Reject an unknown fault target."""
    if fault_on is not None and fault_on not in FAULT_TARGETS:
        raise ValueError(f"unknown fault_on {fault_on!r}; expected one of {FAULT_TARGETS} or None")


def applies(fault: str | None, fault_on: str | None, kind: str | None) -> bool:
    """Whether the fault hits a request to an endpoint of this kind."""
    if fault is None or kind is None:
        return False
    return fault_on is None or fault_on == kind


def json_response(body: object, status: int) -> Response:
    """A JSON response written with the sandbox's Decimal-aware encoder."""
    return Response(dumps(body), status=status, mimetype="application/json")


def fault_response(fault: str) -> Response | None:
    """The canned answer of a fault mode; None for "slow", which answers normally later."""
    if fault == "error":
        return json_response(ALL_FAILED_BODY, 500)
    if fault == "unavailable":
        response = json_response(UNAVAILABLE_BODY, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if fault == "malformed":
        return Response(TRUNCATED_BODY, status=200, mimetype="application/json")
    if fault == "html":
        return Response(GATEWAY_PAGE, status=502, mimetype="text/html")
    return None
