"""What a lookup fetched, as the lookup service, its cache codec and the page see it: each
upstream call's outcome, a page's outcomes together, and the error (if any) that keeps the
page from being shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from app.capillary import (
    AccessDenied,
    Balance,
    CapillaryError,
    ExpirySchedule,
    InvalidDate,
    InvalidProgram,
    MalformedResponse,
    MemberNotFound,
    MemberProfile,
    PromisedSchedule,
    UpstreamApiError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.lookup.fetching.scope import LookupParams

T = TypeVar("T")

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


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """One upstream call's result: a value or the error that took its place.

    A last-known outcome (app/lookup/fetching/last_known.py) holds the value of an earlier call, its
    fetched_at when that call was made, and in stale_because the error of the call just
    made; it is never cached as a fresh one.
    """

    value: T | None
    error: CapillaryError | None
    fetched_at: datetime
    stale_because: CapillaryError | None = None

    @property
    def ok(self) -> bool:
        """Whether there is a value to show (fresh, or last known)."""
        return self.error is None

    @property
    def stale(self) -> bool:
        """Whether the value is last known: this call failed now, an earlier one did not."""
        return self.stale_because is not None


@dataclass(frozen=True, slots=True)
class MemberData:
    """Everything fetched for one member page."""

    member_id: int | None
    params: LookupParams
    scope_balance: Outcome[Balance]
    program_balances: dict[int, Outcome[Balance]]
    schedule: Outcome[PromisedSchedule]
    upstream_calls: int = 0
    upstream_ms: int = 0
    errors: tuple[CapillaryError, ...] = field(default=())
    # Who the member is and what expires; None when the page did not ask (switched off).
    who: Outcome[MemberProfile] | None = None
    expiry: Outcome[ExpirySchedule] | None = None

    @property
    def outcomes(self) -> list[Outcome[Any]]:
        """Every call's outcome: the scope's balance, the schedule, each program's balance,
        then customer details and the expiry schedule when asked for."""
        extras = [outcome for outcome in (self.who, self.expiry) if outcome is not None]
        return [self.scope_balance, self.schedule, *self.program_balances.values(), *extras]

    @property
    def all_failed(self) -> bool:
        """Whether no call succeeded."""
        return not any(outcome.ok for outcome in self.outcomes)

    @property
    def fetched_at(self) -> datetime:
        """When the oldest figure on the page was fetched."""
        return min(outcome.fetched_at for outcome in self.outcomes)

    @property
    def stale(self) -> bool:
        """Whether some figures are last known: the upstream did not answer for them now."""
        return any(outcome.stale for outcome in self.outcomes)

    @property
    def stale_since(self) -> datetime | None:
        """When the oldest last-known figure was fetched, or None when every figure is fresh."""
        times = [outcome.fetched_at for outcome in self.outcomes if outcome.stale]
        return min(times) if times else None


def blocking_error(data: MemberData) -> CapillaryError | None:
    """The error that sends the staff member back to the form, or None to show the page.

    Nothing succeeded; or the chosen program or dates were refused, which the staff
    member can correct (the other programs' figures alone would answer the wrong question).
    Only the scope's own calls count for that: a configured program the upstream refuses
    is a missing row of the per-program table, not a reason to refuse every lookup.
    Last-known figures standing in for calls that failed count as figures: the page shows.
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
