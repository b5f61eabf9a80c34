"""The client's error hierarchy: what went wrong, as typed errors (the lookup side decides
what staff read about each, in app/explanations.py).

Every failure of an upstream call surfaces as a CapillaryError subclass carrying the
upstream's own code, its message, the HTTP status and the X-Cap-Requestid header.
"""

from __future__ import annotations

from datetime import datetime

MEMBER_NOT_FOUND_CODES = frozenset({8015, 816, 1011, 1012, 8065})
INVALID_PROGRAM_CODES = frozenset({885, 1213})
INVALID_DATE_CODES = frozenset({1214, 1215, 1216, 1217})
ACCESS_DENIED_CODES = frozenset({4000, 1044})
# 4xx statuses that mean something about our request even without an errors[] code:
# invalid input, credentials refused, access denied, too many requests. Any other 4xx with
# no code (404, 405, 415...) says the address is not the API: see UpstreamMisconfigured.
MEANINGFUL_CLIENT_STATUSES = frozenset({400, 401, 403, 429})
# The request-level codes for "no such resource", "operation not supported", "unsupported
# media type" (capillary-api.md 4.2) say the same when they arrive inside errors[].
MISCONFIGURED_CODES = frozenset({404, 405, 415})
# Informational codes (capillary-api.md 4.3: 91001-91019 are warnings; 91009 = the survivor
# of a merge was retrieved). Inside errors[] of a 2xx that carries the data, they are
# warnings, not a failure of the call.
WARNING_CODES = frozenset(range(91001, 91020))
# "Too many requests".
RATE_LIMITED_STATUS = 429


class CapillaryError(Exception):
    """Base of every failure of an upstream call."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"request_id={self.request_id!r})"
        )


class UpstreamUnavailable(CapillaryError):
    """The upstream could not be reached or kept failing (connection errors, 5xx)."""


class UpstreamMisconfigured(UpstreamUnavailable):
    """The address answered like something other than the API: a 404, 405, 415 or other
    4xx without an upstream code (a wrong base URL or path), not a refusal of the member."""


class UpstreamTimeout(UpstreamUnavailable):
    """The upstream did not answer within the connect/read timeout or the call deadline."""


class MalformedResponse(CapillaryError):
    """The upstream answered with something that is not the documented JSON shape."""


class UpstreamApiError(CapillaryError):
    """The upstream answered and refused: an errors[] entry or a 4xx status."""


class RateLimited(UpstreamApiError):
    """HTTP 429 (or code 429 in errors[]): too many requests. Not retried within the call;
    the lookup side pauses every worker's calls until Retry-After instead.

    retry_after: the header's delay in seconds; retry_at: its HTTP-date (both None when it
    was absent or unreadable). The moment they name is the lookup side's to work out.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status, request_id=request_id)
        self.retry_after = retry_after
        self.retry_at = retry_at


class MemberNotFound(UpstreamApiError):
    """No member for the identifier (8015 and its relatives)."""


class InvalidProgram(UpstreamApiError):
    """The programId is unknown to the org (885, 1213)."""


class InvalidDate(UpstreamApiError):
    """startDate/endDate rejected (1214 to 1217)."""


class AccessDenied(UpstreamApiError):
    """Credentials rejected or access group missing (401, 403, 4000, 1044)."""


def error_class_for(code: int | None, status: int | None) -> type[CapillaryError]:
    """Choose the subclass for an upstream code, falling back to the HTTP status."""
    # The documented request-level codes name no rate limit (capillary-api.md 5): HTTP 429,
    # or 429 as the code of errors[] (the docs allow both readings of a status), is the sign.
    if status == RATE_LIMITED_STATUS or code == RATE_LIMITED_STATUS:
        return RateLimited
    if code in MEMBER_NOT_FOUND_CODES:
        return MemberNotFound
    if code in INVALID_PROGRAM_CODES:
        return InvalidProgram
    if code in INVALID_DATE_CODES:
        return InvalidDate
    if code in ACCESS_DENIED_CODES or status in (401, 403):
        return AccessDenied
    if code == 4001 or (status is not None and status >= 500):
        return UpstreamUnavailable
    if code in MISCONFIGURED_CODES or (code is None and is_misconfigured_status(status)):
        return UpstreamMisconfigured
    return UpstreamApiError


def is_misconfigured_status(status: int | None) -> bool:
    """A 4xx that, without an upstream code, can only mean a wrong address or path."""
    return status is not None and 400 <= status < 500 and status not in MEANINGFUL_CLIENT_STATUSES
