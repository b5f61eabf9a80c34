"""A lookup and its audit record: nothing about a member is shown without its record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

from flask import g

from app.audit import AuditUnavailable, record_lookup
from app.auth.access import current_staff
from app.capillary import CapillaryError, MemberNotFound, MemberRef
from app.extensions import db
from app.lookup.fetching.outcome import MemberData, blocking_error
from app.lookup.fetching.scope import ALL, LookupParams
from app.lookup.fetching.service import get_service
from app.lookup.identifiers import CUSTOMER_ID
from app.lookup.receipts import stage

# Where look_up leaves the request's lookup outcome (on flask.g) for the metrics.
OUTCOME_KEY = "lookup_outcome"


@dataclass(frozen=True, slots=True)
class AuditedLookup:
    """What a lookup fetched, the error that sends staff back to the form, if any,
    whether its audit record was written (when not, nothing may be shown) and the token of
    the receipt written with it, if any."""

    data: MemberData
    error: CapillaryError | None
    recorded: bool
    receipt: str | None = None


def outcome_of(error: CapillaryError | None, stale: bool = False) -> str:
    """The audit outcome for a lookup that ended with this blocking error (or none), and
    whether what it showed included last-known figures."""
    if error is None:
        return "found_stale" if stale else "found"
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
    deadline: float | None = None,
    refresh: bool = False,
    reason: str | None = None,
    receipt: bool = False,
) -> AuditedLookup:
    """Fetch the member's page in one round (past the cache with refresh), then write its
    audit record (unless told the record was written already, for the page a lookup
    redirects to). The only way the views reach the upstream.

    receipt: when the member is found, store in the record's commit the receipt that lets
    the page this lookup redirects to be shown without a second record (receipts.py).
    """
    data = _fetch_holding_no_connection(member, params, deadline=deadline, refresh=refresh)
    error = blocking_error(data)
    # How the request's lookup ended, for the metrics (app/lookup/bulkhead.py): the last
    # of a request's lookups is the one its page shows.
    setattr(g, OUTCOME_KEY, outcome_of(error))
    if not record:
        return AuditedLookup(data, error, True)
    along = None
    if receipt and error is None and data.member_id is not None:
        staff = current_staff()
        along = partial(stage, staff.username if staff else "", data.member_id, params)
    written, token = _write(
        identifier_type=identifier_type,
        identifier_value=identifier_value,
        member_id=data.member_id,
        params=params,
        outcome=outcome_of(error, data.stale),
        upstream_ms=data.upstream_ms,
        reason=reason,
        along=along,
    )
    return AuditedLookup(data, error, written, token)


def _fetch_holding_no_connection(
    member: MemberRef,
    params: LookupParams,
    *,
    refresh: bool = False,
    deadline: float | None = None,
) -> MemberData:
    """Fetch upstream with this request's database connection back in the pool.

    The sign-in check opened a transaction (and so took a pooled connection); an upstream
    wait of up to the page deadline must not keep it, or a hung upstream drains the pool
    and pages that look nothing up wait for a connection too. Nothing is pending here, so
    the commit only ends the transaction; loaded objects stay readable (expire_on_commit
    is off).
    """
    db.session.commit()
    return get_service().fetch(member, params, refresh=refresh, deadline=deadline)


def record_history(
    member_id: int,
    error: CapillaryError | None,
    *,
    start: date,
    end: date,
    upstream_ms: int | None,
    reason: str | None,
) -> bool:
    """Write the audit record of a member's History view (kind "history"): whether it may
    be shown. Its window travels in the record's dates; nothing of the ledger does."""
    written, _ = _write(
        identifier_type=CUSTOMER_ID,
        identifier_value=str(member_id),
        member_id=member_id,
        params=LookupParams(ALL, start, end),
        outcome=outcome_of(error),
        upstream_ms=upstream_ms,
        reason=reason,
        kind="history",
    )
    return written


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
    reason: str | None = None,
    along: Callable[[], str] | None = None,
    kind: str = "lookup",
) -> tuple[bool, str | None]:
    """(whether the record was written, what along returned when written with it)."""
    try:
        token = record_lookup(
            kind=kind,
            identifier_type=identifier_type,
            identifier_value=identifier_value,
            member_id=member_id,
            program_scope=params.audit_scope if params else "none",
            outcome=outcome,
            upstream_ms=upstream_ms,
            start_date=params.start_date if params else None,
            end_date=params.end_date if params else None,
            reason=reason,
            along=along,
        )
    except AuditUnavailable:
        return False, None
    return True, token
