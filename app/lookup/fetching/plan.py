"""The calls one member page needs: the scope's balance, one balance per configured program
(the all-programs balance is a single sum) and the promised-points schedule; and, in the same
round, who the member is (customer details: name and tier per program) and what expires (the
points-expiry schedule, for every program: one call and one cache entry for every scope)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app import metrics
from app.capillary import CapillaryClient, CapillaryError, MemberRef
from app.lookup.fetching.scope import LookupParams


@dataclass(frozen=True, slots=True)
class Call:
    """One upstream call of a page, independent of how the member is named."""

    kind: str  # "balance", "schedule", "customer" or "expiry" (the budget's APIS)
    program_id: int | None = None
    all_programs: bool = False
    start: str | None = None
    end: str | None = None

    def cache_key(self, member_id: int) -> str:
        """Key by member id and call parameters; never by an identifier."""
        return (
            f"{self.kind}:{member_id}:{self.program_id}:{int(self.all_programs)}"
            f":{self.start or ''}:{self.end or ''}"
        )

    def run(self, client: CapillaryClient, member: MemberRef, params: LookupParams) -> Any:
        """Make this call upstream, counted in the metrics by outcome with its time."""
        started, outcome = time.monotonic(), metrics.OTHER
        try:
            answer = self._call(client, member, params)
            outcome = "ok"
            return answer
        except CapillaryError as exc:
            outcome = metrics.call_outcome(exc)
            raise
        finally:
            metrics.upstream_call(self.kind, outcome, time.monotonic() - started)

    def _call(self, client: CapillaryClient, member: MemberRef, params: LookupParams) -> Any:
        if self.kind == "customer":
            return client.get_member_profile(member)
        if self.kind == "expiry":
            return client.get_expiry_schedule(
                member, program_id=self.program_id, all_programs=self.all_programs
            )
        if self.kind == "balance":
            return client.get_balance(
                member, program_id=self.program_id, all_programs=self.all_programs
            )
        return client.get_schedule(
            member,
            program_id=self.program_id,
            all_programs=self.all_programs,
            start_date=params.start_date,
            end_date=params.end_date,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """The calls a page needs; the scope's balance may be one of the per-program calls."""

    scope_balance: Call
    program_balances: dict[int, Call]
    schedule: Call
    who: Call | None = None  # customer details: name and tiers
    expiry: Call | None = None  # points-expiry schedule, every program

    @property
    def calls(self) -> list[Call]:
        """Each distinct call once."""
        unique: dict[Call, None] = {self.scope_balance: None}
        unique.update(dict.fromkeys(self.program_balances.values()))
        unique[self.schedule] = None
        for extra in (self.who, self.expiry):
            if extra is not None:
                unique[extra] = None
        return list(unique)


WHO = Call("customer")
EXPIRY = Call("expiry", all_programs=True)


def plan_calls(
    params: LookupParams, programs: Mapping[int, str], *, who: bool = True, expiry: bool = True
) -> Plan:
    """Decide the calls for a page: scope balance, one balance per program, the schedule,
    customer details and the expiry schedule (the same for every scope; each can be left
    out, as LOOKUP_MEMBER_DETAILS and LOOKUP_EXPIRY say)."""
    per_program = {pid: Call("balance", program_id=pid) for pid in programs}
    scope = per_program.get(params.program_id) if params.program_id is not None else None
    if scope is None:
        scope = Call("balance", program_id=params.program_id, all_programs=params.all_programs)
    schedule = Call(
        "schedule",
        program_id=params.program_id,
        all_programs=params.all_programs,
        start=params.start_date.isoformat() if params.start_date else None,
        end=params.end_date.isoformat() if params.end_date else None,
    )
    return Plan(scope, per_program, schedule, WHO if who else None, EXPIRY if expiry else None)
