"""Every lookup leaves one audit record before anything about the member is shown."""

from __future__ import annotations

from app.audit import AuditUnavailable, record_lookup
from app.capillary import CapillaryError, MemberNotFound
from app.lookup.scope import LookupParams


def outcome_of(error: CapillaryError | None) -> str:
    """The audit outcome for a lookup that ended with this blocking error (or none)."""
    if error is None:
        return "found"
    if isinstance(error, MemberNotFound):
        return "not_found"
    return "upstream_error"


def recorded(
    *,
    identifier_type: str,
    identifier_value: str | None,
    member_id: int | None,
    params: LookupParams | None,
    outcome: str,
    upstream_ms: int | None,
) -> bool:
    """Write the record; False when it cannot be written, and the lookup must be refused."""
    try:
        record_lookup(
            identifier_type=identifier_type,
            identifier_value=identifier_value,
            member_id=member_id,
            program_scope=params.scope_label if params else "none",
            outcome=outcome,
            upstream_ms=upstream_ms,
            start_date=params.start_date if params else None,
            end_date=params.end_date if params else None,
        )
    except AuditUnavailable:
        return False
    return True
