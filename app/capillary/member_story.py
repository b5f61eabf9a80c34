"""The requests of the member-story reads (capillary-api.md 7.3): paths, log labels and query
parameters for customer details, the points-expiry schedule and the points ledger. The client
(client.py) sends them; story_parse.py reads the answers."""

from __future__ import annotations

from datetime import datetime

from app.capillary.models import MemberLookup, MemberRef

# Customer details: the multi-program loyalty details carry each program's tier.
EMBED = "mlp"
# The ledger's documented page-size caps are 10 and 100 in different places: 10 fits both.
LEDGER_MAX_LIMIT = 10
# The ledger refuses a window longer than this (11010).
LEDGER_MAX_DAYS = 60
LEDGER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"

# (path, log label, query parameters, identifier values to keep out of error texts)
Request = tuple[str, str, list[tuple[str, str]], tuple[str, ...]]


def customer_details(member: MemberRef, lookup_params: list[tuple[str, str]]) -> Request:
    """GET v2/customers/{id}?embed=mlp, or v2/customers/lookup/customerDetails?...&embed=mlp."""
    if isinstance(member, MemberLookup):
        secrets = tuple(ident.value for ident in member.identifiers)
        return (
            "v2/customers/lookup/customerDetails",
            "lookup/customerDetails",
            [*lookup_params, ("embed", EMBED)],
            secrets,
        )
    member_id = _member_id(member)
    return f"v2/customers/{member_id}", "customers/{id}", [("embed", EMBED)], ()


def expiry_params(program_id: int | None, all_programs: bool) -> list[tuple[str, str]]:
    """programId / fetchDataForAllPrograms; no startDate (its default, now, is the earliest
    the API takes) and no fetchEarliestExpiryOnly (the page lists every expiry)."""
    params: list[tuple[str, str]] = []
    if program_id is not None:
        params.append(("programId", str(_positive(program_id, "program_id"))))
    params.append(("fetchDataForAllPrograms", "true" if all_programs else "false"))
    return params


def ledger(
    member_id: int,
    *,
    source: str,
    account_id: str | None,
    start: datetime,
    end: datetime,
    offset: int,
    limit: int,
    program_id: int | None,
) -> Request:
    """GET v2/pointsLedger/getCustomerLedgerInfo by the member's id, one page of a window.

    start and end are written in the zone they carry (the caller gives the cluster's).
    """
    if end < start:
        raise ValueError("the ledger window ends before it starts")
    if (end - start).total_seconds() > LEDGER_MAX_DAYS * 86400:
        raise ValueError(f"the ledger window is at most {LEDGER_MAX_DAYS} days")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError("offset must be a whole number from 0")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LEDGER_MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {LEDGER_MAX_LIMIT}")
    if not isinstance(source, str) or not source:
        raise ValueError("source must be a non-empty string")
    params = [
        ("identifierName", "id"),
        ("identifierValue", str(_member_id(member_id))),
        ("source", source),
    ]
    if account_id:
        params.append(("accountId", str(account_id)))
    params += [
        ("startDate", start.strftime(LEDGER_TIME_FORMAT)),
        ("endDate", end.strftime(LEDGER_TIME_FORMAT)),
        ("offset", str(offset)),
        ("limit", str(limit)),
    ]
    if program_id is not None:
        params.append(("programId", str(_positive(program_id, "program_id"))))
    return "v2/pointsLedger/getCustomerLedgerInfo", "pointsLedger/getCustomerLedgerInfo", params, ()


def _member_id(member: object) -> int:
    if isinstance(member, bool) or not isinstance(member, int):
        raise ValueError("member must be a Capillary customer id (int) or a MemberLookup")
    return _positive(member, "a Capillary customer id")


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer")
    # int() first: only digits reach the path, whatever an int subclass's __str__ says.
    return int(value)
