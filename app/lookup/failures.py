"""When no call of a lookup succeeded: which field to blame, what to say, which status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, has_app_context
from wtforms import Field

from app import clock
from app.capillary import (
    RETRY_POLICY,
    AccessDenied,
    CapillaryError,
    InvalidDate,
    InvalidProgram,
    MemberNotFound,
    UpstreamApiError,
    UpstreamTimeout,
)
from app.clock import today
from app.explanations import explain
from app.formatting import format_date
from app.lookup.detect import KIND_WORDS, Candidate
from app.lookup.fetching.outcome import MemberData
from app.lookup.fetching.scope import latest_end_date
from app.lookup.forms import LookupForm
from app.lookup.identifiers import CUSTOMER_ID

END_DATE_CODES = frozenset({1214, 1217})


@dataclass(frozen=True, slots=True)
class FormFailure:
    """A failed lookup as shown above the form."""

    status: int  # of this page
    title: str
    explanation: str
    code: int | None
    request_id: str | None
    http_status: int | None  # of the upstream's answer, when there was one
    field_id: str | None = None  # the form field whose own message says what to fix
    field_message: str | None = None  # ...and that message, shown next to the field
    next_steps: tuple[str, ...] = field(default=())  # what to try, for "not found"
    at: datetime | None = None  # when it failed, for "Try again" and a ticket
    failed_parts: str | None = None  # "the balance and the promised-points timeline"
    retry: bool = False  # nothing typed is wrong: the same lookup may work in a moment
    retry_kind: str | None = None  # "Try again as <kind>": the reading that ran out of time
    retry_words: str | None = None  # that kind in words


def explain_failure(
    error: CapillaryError,
    form: LookupForm,
    tried: Sequence[Candidate] = (),
    data: MemberData | None = None,
) -> FormFailure:
    """What the failed lookup's page says: the field at fault and its message (or, for "not
    found", once what to try next) and the page's status; for an outage also when, which
    calls failed, and "Try again". The form is read, never changed."""
    status = 502
    title = "The loyalty system could not answer"
    blamed: Field | None = None
    message: str | None = None
    if isinstance(error, MemberNotFound):
        return FormFailure(
            404,
            "Member not found",
            not_found_text(tried, form),
            error.code,
            error.request_id,
            error.status,
            next_steps=next_steps(tried, form),
        )
    if isinstance(error, InvalidProgram):
        blamed, message = form.program, "The loyalty system does not know this program."
        status, title = 400, "Unknown program"
    elif isinstance(error, InvalidDate):
        blamed = form.end_date if refused_end_date(error) else form.start_date
        message = f"{explain(error)} {default_range_text(today())}"
        status, title = 400, "Dates not accepted"
        return FormFailure(
            status,
            title,
            message,
            error.code,
            error.request_id,
            error.status,
            field_id=blamed.id,
            field_message=message,
        )
    elif isinstance(error, AccessDenied):
        title = "Points Desk is not allowed to read this data"
    elif isinstance(error, UpstreamApiError) and _not_about_the_member(error):
        # Nothing the staff member typed is wrong: keep the form clean, say "try again".
        if RETRY_POLICY.is_busy(error.code, error.status):
            status, title = 503, "The loyalty system is busy"
    elif isinstance(error, UpstreamApiError):
        blamed, message = form.identifier, explain(error)
        status, title = 400, "The loyalty system refused the lookup"
    elif isinstance(error, UpstreamTimeout):
        status, title = 504, "The loyalty system took too long"
    return FormFailure(
        status,
        title,
        explain(error),
        error.code,
        error.request_id,
        error.status,
        field_id=blamed.id if blamed is not None else None,
        field_message=message,
        at=clock.now(),
        failed_parts=failed_parts(data) if data is not None and blamed is None else None,
        retry=blamed is None and status >= 500,
    )


def refused_end_date(error: InvalidDate) -> bool:
    """Whether the refusal is about the end date: by its code (1214 start after end, 1217
    too far ahead), or by the field its message names (1215 "{x} cannot be a past date")."""
    if error.code in END_DATE_CODES:
        return True
    text = error.message.lower()
    return "enddate" in text and "startdate" not in text


def default_range_text(day: date) -> str:
    """The range the loyalty system uses when no dates are sent (capillary-api.md 2.2)."""
    return (
        "Leave both dates empty for the default range: from today "
        f"({format_date(day)}) to {format_date(latest_end_date(day))}."
    )


def dual_eligibility_text() -> str:
    """Under dual eligibility a member who exists can be "not found" (capillary-api.md 7.2)."""
    return (
        "This organisation uses dual eligibility: a lookup by one identifier that is not "
        "the organisation's primary one is answered “not found” even when the member "
        "exists. Look up by the primary identifier, or add it as the second identifier."
    )


def out_of_time(
    error: CapillaryError | None,
    tried: Sequence[Candidate],
    untried: Sequence[Candidate],
    form: LookupForm,
) -> FormFailure | None:
    """Slow is not "not found": some readings found nobody, the next one ran out of the page's
    time (never tried, or timed out). Say which, and offer that reading on its own."""
    if untried and isinstance(error, MemberNotFound):
        missed, slow = tried, untried[0]
    elif isinstance(error, UpstreamTimeout) and len(tried) > 1:
        missed, slow = tried[:-1], tried[-1]
    else:
        return None
    title = f"Not found as {_a(_kinds(missed))}; the {slow.words} check took too long"
    return FormFailure(
        504,
        title,
        "The loyalty system answered slowly, so Points Desk ran out of time before it could "
        f"check the {slow.words}. This does not mean there is no such member: try the "
        f"{slow.words} on its own.",
        error.code if isinstance(error, UpstreamTimeout) else None,
        error.request_id if isinstance(error, UpstreamTimeout) else None,
        None,
        at=clock.now(),
        retry_kind=slow.kind,
        retry_words=slow.words,
    )


def _a(words: str) -> str:
    return f"an {words}" if words[:1] in "aeiou" else f"a {words}"


def failed_parts(data: MemberData) -> str | None:
    """Which of the lookup's calls failed, in words: 'the balance and the timeline'."""
    parts = []
    if not data.scope_balance.ok:
        parts.append("the points balance")
    if any(not o.ok for o in data.program_balances.values() if o is not data.scope_balance):
        parts.append("the balances per program")
    if not data.schedule.ok:
        parts.append("the promised-points timeline")
    if not parts:
        return None
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _kinds(tried: Sequence[Candidate]) -> str:
    labels = list(dict.fromkeys(candidate.words for candidate in tried))
    if len(labels) <= 1:
        return labels[0] if labels else "identifier"
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def not_found_text(tried: Sequence[Candidate], form: LookupForm) -> str:
    """'No member has this mobile number or Capillary customer id.'"""
    if not tried:
        text = f"No member has this {KIND_WORDS.get(form.identifier_type.data, 'identifier')}."
    else:
        text = f"No member has this {_kinds(tried)}."
    if has_app_context() and current_app.config.get("CAPILLARY_DUAL_ELIGIBILITY"):
        text += " " + dual_eligibility_text()
    return text


def next_steps(tried: Sequence[Candidate], form: LookupForm) -> tuple[str, ...]:
    """What the staff member can try next, given the readings that found nobody."""
    steps: list[str] = []
    kinds = {candidate.kind for candidate in tried}
    added = next((c.country_code_added for c in tried if c.country_code_added), None)
    if added:
        steps.append(
            f"Check the country code: Points Desk put {added} in front of the number. "
            "If the member's mobile is from another country, type it with + and its code."
        )
    elif "mobile" in kinds:
        steps.append("Check the country code at the start of the number.")
    if "cardnumber" in kinds:
        steps.append("Check the card number for a mistyped letter or digit (O and 0, I and 1).")
    others = [
        words for kind, words in KIND_WORDS.items() if kind not in kinds and kind != CUSTOMER_ID
    ]
    if others:
        steps.append("Ask the member for another identifier: " + ", ".join(others) + ".")
    if not form.auto:
        steps.append(
            "Or set the identifier type to “Work it out from what I type” to try "
            "every kind the value could be."
        )
    return tuple(steps)


def _not_about_the_member(error: UpstreamApiError) -> bool:
    # "Busy", or a 5xx code in errors[] (even of a 200): a whole-request failure.
    codes = {error.code, error.status}
    return RETRY_POLICY.is_busy(*codes) or any(c is not None and 500 <= c < 600 for c in codes)
