"""The member page's notices: what is missing and why, and the upstream's warnings, in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.capillary import CapillaryError
from app.explanations import explain, explain_warning
from app.lookup.fetching.outcome import MemberData
from app.lookup.fetching.scope import program_name


@dataclass(frozen=True, slots=True)
class Notice:
    """An upstream warning or a failed call, in plain words with the upstream's code."""

    title: str
    explanation: str
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    http_status: int | None = None  # the upstream's HTTP status, when it answered one


def build_warnings(data: MemberData) -> tuple[Notice, ...]:
    """The upstream's warnings from every call, each once, in plain words."""
    seen: dict[tuple[int | None, str], Notice] = {}
    for outcome in data.outcomes:
        if outcome.value is None:
            continue
        for warning in outcome.value.warnings:
            key = (warning.code, warning.message)
            if key in seen:
                continue
            explanation = explain_warning(warning.code)
            seen[key] = Notice(
                title="Warning from the loyalty system",
                explanation=explanation,
                code=warning.code,
                message=warning.message,
                request_id=outcome.value.request_id,
            )
    return tuple(seen.values())


def build_failures(data: MemberData, programs: Mapping[int, str]) -> tuple[Notice, ...]:
    """What is missing from the page and why, with the upstream's code and request id."""
    failed: list[tuple[str, CapillaryError]] = []
    scope_is_a_program_row = any(data.scope_balance is o for o in data.program_balances.values())
    if data.scope_balance.error is not None and not scope_is_a_program_row:
        failed.append(("The balance for this scope is missing", data.scope_balance.error))
    for program_id, outcome in data.program_balances.items():
        if outcome.error is not None:
            name = program_name(programs, program_id)
            failed.append((f"The balance for {name} ({program_id}) is missing", outcome.error))
    if data.schedule.error is not None:
        failed.append(("The promised-points timeline is missing", data.schedule.error))
    if data.who is not None and data.who.error is not None:
        failed.append(("The member's name and tier are missing", data.who.error))
    if data.expiry is not None and data.expiry.error is not None:
        failed.append(("The points-expiry dates are missing", data.expiry.error))
    return tuple(
        Notice(
            title=title,
            explanation=explain(error),
            code=error.code,
            message=error.message if error.code is not None else None,
            request_id=error.request_id,
            http_status=error.status,
        )
        for title, error in failed
    )
