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
# Warning codes ([LOOKUP-SC], status-codes-customer; capillary-api.md 7.1): 1053,
# 91001-91007, 91011-91019 and 8050-8090. Classified by code as well as by array: inside
# errors[] of a 2xx that carries the data they are warnings, not a failure of the call.
WARNING_CODES = frozenset({1053, *range(91001, 91008), *range(91011, 91020), *range(8050, 8091)})
# Codes the same list files as errors although they sit among the 91xxx warnings: wherever
# they arrive (errors[] or warnings[]) they fail the call.
ERROR_CODES_AMONG_WARNINGS = frozenset({91009, 91010, 91020, 91021, 91022})
# "Failed to get point details": a warning by its list, but an answer carrying it has no
# trustworthy figures (zeros included), so the call has failed (capillary-api.md 7.1).
POINTS_NOT_FETCHED_CODE = 91001
# Statuses a CDN in front of the API answers with its own page (520 unknown, 521 web
# server down, 522 connection timed out, 523 origin unreachable, 524 origin timed out).
CDN_STATUSES = frozenset({520, 521, 522, 523, 524})
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


class UpstreamUnreachable(UpstreamUnavailable):
    """Something in front of the API answered instead of it: a CDN's HTML page (520-524, a
    403 block page) or any HTML where the API's JSON belongs, a 200 included."""


class PointsNotFetched(UpstreamUnavailable):
    """The answer carried 91001 ("Failed to get point details"): its figures, zeros
    included, are not the member's; the call failed, and nothing of it is kept."""


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
