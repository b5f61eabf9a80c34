"""The client's error hierarchy and the plain-language text staff see for each code.

Every failure of an upstream call surfaces as a CapillaryError subclass carrying the
upstream's own code, its message, the HTTP status and the X-Cap-Requestid header.
"""

from __future__ import annotations

# Upstream codes (capillary-api.md 2.4, 4.3, 3.3) in words a customer-service agent can use.
EXPLANATIONS: dict[int, str] = {
    8015: "No member was found with that identifier.",
    816: "No member was found for this organisation.",
    1011: "No member was found with that identifier.",
    1012: "No member was found with that identifier.",
    8065: "No member was found with that identifier for this source.",
    8013: "The identifier is not valid for its type.",
    8045: "This source needs an account id, and none was sent.",
    8011: "The source account is not valid.",
    885: "That program does not exist for this organisation.",
    1213: "That program does not exist for this organisation.",
    1212: "The entity type is not valid.",
    1632: "The group id, external id or primary user id is not valid.",
    1214: "The start date is after the end date.",
    1215: "A date in the range is in the past, which the loyalty system does not accept here.",
    1216: "A date is not in the YYYY-MM-DD format.",
    1217: "A date is more than 100 years ahead.",
    1013: "The member is not registered for loyalty.",
    1020: "The member is not registered for loyalty.",
    8089: "The member is not registered for loyalty.",
    618: "The member is marked as fraud; their points cannot be shown.",
    1044: "This account has no permission to view the member.",
    4000: "Points Desk is not authorised for this data (missing access group).",
    4001: "The loyalty system cannot check authorisation right now. Try again shortly.",
    91001: "The loyalty system could not fetch some point details.",
    91009: "The member was merged; the surviving account is shown.",
}

STATUS_EXPLANATIONS: dict[int, str] = {
    400: "The loyalty system rejected the request as invalid.",
    401: "Points Desk could not sign in to the loyalty system (credentials rejected).",
    403: "Points Desk is not allowed to read this data from the loyalty system.",
    404: "The loyalty system does not know this address.",
    429: "The loyalty system is receiving too many requests. Try again in a minute.",
    461: "The loyalty system's search is busy. Try again shortly.",
    500: "The loyalty system failed to answer this request.",
    502: "The loyalty system is unreachable behind its gateway.",
    503: "The loyalty system is temporarily unavailable.",
    504: "The loyalty system's gateway timed out.",
    521: "Another action is running for this member. Try again shortly.",
}

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
# "Try again later", as an HTTP status or inside errors[] (the docs allow both readings):
# search busy, gateway blips, authorization status unavailable (503/4001), another action
# running for the member. 500 ("failed") is not among them.
RETRYABLE_CODES = frozenset({461, 502, 503, 504, 521, 4001})


def explain(code: int | None, status: int | None = None) -> str:
    """Plain-language text for an upstream code, falling back to the HTTP status."""
    if code is not None and code in EXPLANATIONS:
        return EXPLANATIONS[code]
    if status is not None and status in STATUS_EXPLANATIONS:
        return STATUS_EXPLANATIONS[status]
    if code is not None and code in STATUS_EXPLANATIONS:
        return STATUS_EXPLANATIONS[code]
    return "The loyalty system returned an error Points Desk does not recognise."


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

    @property
    def explanation(self) -> str:
        """What staff read: plain words for the code or status."""
        return explain(self.code, self.status)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"request_id={self.request_id!r})"
        )


class UpstreamUnavailable(CapillaryError):
    """The upstream could not be reached or kept failing (connection errors, 5xx)."""

    @property
    def explanation(self) -> str:
        if self.status is None and self.code is None:
            return "The loyalty system could not be reached."
        return super().explanation


class UpstreamMisconfigured(UpstreamUnavailable):
    """The address answered like something other than the API: a 404, 405, 415 or other
    4xx without an upstream code (a wrong base URL or path), not a refusal of the member."""

    @property
    def explanation(self) -> str:
        answered = f" (the address answered HTTP {self.status})" if self.status else ""
        return f"Points Desk's connection to the loyalty system is misconfigured{answered}."


class UpstreamTimeout(UpstreamUnavailable):
    """The upstream did not answer within the connect/read timeout or the call deadline."""

    @property
    def explanation(self) -> str:
        return "The loyalty system took too long to answer."


class MalformedResponse(CapillaryError):
    """The upstream answered with something that is not the documented JSON shape."""

    @property
    def explanation(self) -> str:
        return "The loyalty system sent an answer Points Desk cannot read."


class UpstreamApiError(CapillaryError):
    """The upstream answered and refused: an errors[] entry or a 4xx status."""


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
