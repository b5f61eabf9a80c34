"""A lookup and its audit record: nothing about a member is shown without its record."""

from __future__ import annotations

from dataclasses import dataclass

from app.audit import AuditUnavailable, record_lookup
from app.capillary import CapillaryError, MemberNotFound, MemberRef
from app.lookup.failures import blocking_error
from app.lookup.scope import LookupParams
from app.lookup.service import MemberData, get_service


@dataclass(frozen=True, slots=True)
class AuditedLookup:
    """What a lookup fetched, the error that sends staff back to the form, if any, and
    whether its audit record was written (when not, nothing may be shown)."""

    data: MemberData
    error: CapillaryError | None
    recorded: bool


def outcome_of(error: CapillaryError | None) -> str:
    """The audit outcome for a lookup that ended with this blocking error (or none)."""
    if error is None:
        return "found"
    if isinstance(error, MemberNotFound):
        return "not_found"
    return "upstream_error"


def look_up(
    member: MemberRef,
    params: LookupParams,
    *,
    identifier_type: str,
    identifier_value: str,
    record: bool = True,
) -> AuditedLookup:
    """Fetch the member's page in one round, then write its audit record (unless told the
    record was written already, for the page a lookup redirects to)."""
    data = get_service().fetch(member, params)
    error = blocking_error(data)
    written = not record or _write(
        identifier_type=identifier_type,
        identifier_value=identifier_value,
        member_id=data.member_id,
        params=params,
        outcome=outcome_of(error),
        upstream_ms=data.upstream_ms,
    )
    return AuditedLookup(data, error, written)


def record_refused(identifier_type: str) -> None:
    """Record a lookup refused before any upstream call (no identifier: it may be anything
    typed). It shows no member data, so a failure to write it is not fatal."""
    _write(
        identifier_type=identifier_type,
        identifier_value=None,
        member_id=None,
        params=None,
        outcome="refused",
        upstream_ms=None,
    )


def _write(
    *,
    identifier_type: str,
    identifier_value: str | None,
    member_id: int | None,
    params: LookupParams | None,
    outcome: str,
    upstream_ms: int | None,
) -> bool:
    try:
        record_lookup(
            identifier_type=identifier_type,
            identifier_value=identifier_value,
            member_id=member_id,
            program_scope=params.audit_scope if params else "none",
            outcome=outcome,
            upstream_ms=upstream_ms,
            start_date=params.start_date if params else None,
            end_date=params.end_date if params else None,
        )
    except AuditUnavailable:
        return False
    return True
