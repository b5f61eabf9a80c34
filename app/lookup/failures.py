"""When no call of a lookup succeeded: which field to blame, what to say, which status."""

from __future__ import annotations

from dataclasses import dataclass

from wtforms import Field

from app.capillary import (
    AccessDenied,
    CapillaryError,
    InvalidDate,
    InvalidProgram,
    MalformedResponse,
    MemberNotFound,
    UpstreamApiError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.lookup import identifiers
from app.lookup.forms import LookupForm
from app.lookup.service import MemberData

# Most specific first: an answer about the member beats a transport failure of another call.
PRIORITY: tuple[type[CapillaryError], ...] = (
    MemberNotFound,
    InvalidProgram,
    InvalidDate,
    AccessDenied,
    UpstreamApiError,
    UpstreamTimeout,
    UpstreamUnavailable,
    MalformedResponse,
    CapillaryError,
)

END_DATE_CODES = frozenset({1214, 1217})
# Refusals that say "not now" rather than "not this member": too many requests, search busy,
# another action running. A 5xx code in errors[] (even of a 200) is a whole-request failure.
BUSY_CODES = frozenset({429, 461, 521})


@dataclass(frozen=True, slots=True)
class FormFailure:
    """A failed lookup as shown above the form."""

    status: int  # of this page
    title: str
    explanation: str
    code: int | None
    request_id: str | None
    http_status: int | None  # of the upstream's answer, when there was one


def blocking_error(data: MemberData) -> CapillaryError | None:
    """The error that sends the staff member back to the form, or None to show the page.

    Nothing succeeded; or the chosen program or dates were refused, which the staff
    member can correct (the other programs' figures alone would answer the wrong question).
    Only the scope's own calls count for that: a configured program the upstream refuses
    is a missing row of the per-program table, not a reason to refuse every lookup.
    """
    if not data.errors:
        return None
    if data.all_failed or data.member_id is None:
        return primary_error(data.errors)
    for error in (data.scope_balance.error, data.schedule.error):
        if isinstance(error, InvalidProgram | InvalidDate):
            return error
    return None


def primary_error(errors: tuple[CapillaryError, ...]) -> CapillaryError:
    """The error that best explains why nothing could be shown."""
    for kind in PRIORITY:
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


def _add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]


def explain_failure(error: CapillaryError, form: LookupForm) -> FormFailure:
    """Put the message next to the field at fault and choose the page status."""
    status = 502
    title = "The loyalty system could not answer"
    if isinstance(error, MemberNotFound):
        label = identifiers.IDENTIFIER_TYPES.get(form.identifier_type.data, "identifier")
        _add_error(form.identifier, f"No member was found with this {label.lower()}.")
        status, title = 404, "Member not found"
    elif isinstance(error, InvalidProgram):
        _add_error(form.program, "The loyalty system does not know this program.")
        status, title = 400, "Unknown program"
    elif isinstance(error, InvalidDate):
        field = form.end_date if error.code in END_DATE_CODES else form.start_date
        _add_error(field, error.explanation)
        status, title = 400, "Dates not accepted"
    elif isinstance(error, AccessDenied):
        title = "Points Desk is not allowed to read this data"
    elif isinstance(error, UpstreamApiError) and _not_about_the_member(error):
        # Nothing the staff member typed is wrong: keep the form clean, say "try again".
        if error.code in BUSY_CODES or error.status in BUSY_CODES:
            status, title = 503, "The loyalty system is busy"
    elif isinstance(error, UpstreamApiError):
        _add_error(form.identifier, error.explanation)
        status, title = 400, "The loyalty system refused the lookup"
    elif isinstance(error, UpstreamTimeout):
        status, title = 504, "The loyalty system took too long"
    return FormFailure(status, title, error.explanation, error.code, error.request_id, error.status)


def _not_about_the_member(error: UpstreamApiError) -> bool:
    codes = {error.code, error.status}
    return bool(codes & BUSY_CODES) or any(c is not None and 500 <= c < 600 for c in codes)
