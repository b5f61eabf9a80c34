"""What staff read about an upstream failure or warning: plain words for each code and status.

The client (app/capillary) says what happened, as typed errors with the upstream's codes; the
words are the desk's, so they live here, on the lookup side.
"""

from __future__ import annotations

from app.capillary import (
    CapillaryError,
    MalformedResponse,
    PointsNotFetched,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)

# What to fix for a refused authorisation: the access group is set on the API key's store
# (the till or OAuth client) in the loyalty system's admin ([AUTHZ]).
ACCESS_GROUP_FIX = (
    "Ask your Capillary admin to give the API key's store (the till, or the OAuth client) "
    "the access group for these APIs (Customer, and User Groups for the promised-points "
    "schedule)."
)
MERGED_WORDS = (
    "This member was merged into another account; look up the surviving account by its "
    "own identifier."
)
WARNING_WORDS = "The loyalty system sent a warning about this member's details."

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
    4000: "Points Desk is not authorised for this data (Not authorized. Access is denied!). "
    + ACCESS_GROUP_FIX,
    4001: "The loyalty system cannot check authorisation right now (Authorization status "
    "unavailable). Try again shortly.",
    # Customer-lookup codes (capillary-api.md 7.1) that had no words.
    8001: "The loyalty system does not accept the source Points Desk sends "
    "(CAPILLARY_SOURCE). Ask your administrator to check it.",
    8002: "The loyalty system does not accept the source Points Desk sends "
    "(CAPILLARY_SOURCE), or its account id (CAPILLARY_ACCOUNT_ID). Ask your administrator "
    "to check them.",
    8003: "The source Points Desk sends (CAPILLARY_SOURCE) is not valid. Ask your "
    "administrator to check it.",
    8016: "The loyalty system could not find the member from these identifiers together; "
    "try one identifier, the organisation's primary one.",
    8091: "The loyalty system refused the member's identifiers. Check what was typed.",
    8092: "The loyalty system refused the member's identifiers. Check what was typed.",
    8093: "The loyalty system refused the member's identifiers. Check what was typed.",
    8127: "The loyalty system refused this lookup for the member. Check what was typed, or "
    "try another identifier.",
    11013: "The loyalty system refused the request's details for this member's points.",
    # Errors among the 91xxx codes (capillary-api.md 7.1): they fail the call.
    91009: MERGED_WORDS,
    91010: MERGED_WORDS,
    91020: "The loyalty system could not read this member's loyalty details.",
    91021: "The loyalty system could not read this member's loyalty details.",
    91022: "The loyalty system could not read this member's loyalty details.",
    # Warnings: figures came, with a remark.
    91001: "The loyalty system could not fetch the member's points just now (Failed to get "
    "point details): whatever figures it sent, zeros included, are not the member's.",
    1053: WARNING_WORDS,
    8062: WARNING_WORDS,
    8069: "Merged customer found: the figures are the surviving account's.",
}
# 91002-91007, 91011-91019 and 8050-8090 without words of their own: a warning beside data.
for _code in (*range(91002, 91008), *range(91011, 91020), *range(8050, 8091)):
    EXPLANATIONS.setdefault(_code, WARNING_WORDS)

STATUS_EXPLANATIONS: dict[int, str] = {
    400: "The loyalty system rejected the request as invalid.",
    401: "Points Desk could not sign in to the loyalty system (credentials rejected).",
    403: "Points Desk is not allowed to read this data from the loyalty system. "
    + ACCESS_GROUP_FIX,
    404: "The loyalty system does not know this address.",
    429: "The loyalty system is receiving too many requests. Try again in a minute.",
    461: "The loyalty system's search is busy. Try again shortly.",
    500: "The loyalty system failed to answer this request.",
    502: "The loyalty system is unreachable behind its gateway.",
    503: "The loyalty system is temporarily unavailable.",
    504: "The loyalty system's gateway timed out.",
    521: "Another action is running for this member. Try again shortly.",
}
# A CDN in front of the API answers these with its own page (capillary-api.md 7.1).
CDN_STATUS_WORDS = {
    520: "an unknown error",
    521: "the API's server down",
    522: "a connection timed out",
    523: "the API unreachable",
    524: "the API timed out",
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
    if isinstance(error, UpstreamUnreachable):
        said = CDN_STATUS_WORDS.get(error.status or 0)
        what = f" (HTTP {error.status}: {said})" if said else ""
        return (
            "Points Desk could not reach the loyalty system: a network service in front of it "
            f"answered instead{what}. Try again shortly."
        )
    if isinstance(error, PointsNotFetched):
        return EXPLANATIONS[91001]
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
