"""What staff read about an upstream failure or warning: plain words for each code and status.

The client (app/capillary) says what happened, as typed errors with the upstream's codes; the
words are the desk's, so they live here, on the lookup side.
"""

from __future__ import annotations

from app.capillary import (
    CapillaryError,
    MalformedResponse,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
)

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

UNKNOWN_ERROR = "The loyalty system returned an error Points Desk does not recognise."
UNKNOWN_WARNING = "The loyalty system sent a warning Points Desk does not know."


def explain_code(code: int | None, status: int | None = None) -> str:
    """Plain words for an upstream code, falling back to the HTTP status."""
    if code is not None and code in EXPLANATIONS:
        return EXPLANATIONS[code]
    if status is not None and status in STATUS_EXPLANATIONS:
        return STATUS_EXPLANATIONS[status]
    if code is not None and code in STATUS_EXPLANATIONS:
        return STATUS_EXPLANATIONS[code]
    return UNKNOWN_ERROR


def explain(error: CapillaryError) -> str:
    """What staff read about a failed call."""
    if isinstance(error, UpstreamMisconfigured):
        answered = f" (the address answered HTTP {error.status})" if error.status else ""
        return f"Points Desk's connection to the loyalty system is misconfigured{answered}."
    if isinstance(error, UpstreamTimeout):
        return "The loyalty system took too long to answer."
    if isinstance(error, UpstreamUnavailable) and error.status is None and error.code is None:
        return "The loyalty system could not be reached."
    if isinstance(error, MalformedResponse):
        return "The loyalty system sent an answer Points Desk cannot read."
    return explain_code(error.code, error.status)


def explain_warning(code: int | None) -> str:
    """What staff read about a warning the upstream sent beside its data."""
    return EXPLANATIONS.get(code if code is not None else -1, UNKNOWN_WARNING)
