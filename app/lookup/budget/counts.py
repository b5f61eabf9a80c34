"""The shared upstream budget: at most CAPILLARY_CALLS_PER_MINUTE calls a minute, shared
fairly between staff, and a pause for every worker after the upstream said "too many
requests".

Capillary's rate-limit page reads two ways: limits "per minute, per API" and, for demo
clusters, "100 requests per minute per API key". By default the ceiling caps the key's
calls to every API together (one counter, ALL), which never exceeds either reading; with
CAPILLARY_BUDGET_PER_API each API has a ceiling of its own (one counter per API).

Fair shares, on every counter: no staff member may spend more than their cap a minute
(CAPILLARY_CALLS_PER_STAFF), and the last calls of the minute (CAPILLARY_BUDGET_RESERVE)
are kept for staff who have used little of it: someone may draw on the reserve only while
their own calls of the minute, this lookup's included, stay within half the reserve. So
one agent hammering Refresh runs into their own cap long before the desk's ceiling, and
several of them still leave the reserve to everyone else.

A lookup reserves all the calls it is about to make, on every counter, before it makes
any: all of them or none. A refusal says whose limit it is (the agent's own share, or the
desk's) and how long until enough of the minute's calls age out; no call goes upstream.

Counts live in this process (MemoryBudget, for memory://) or in Redis (RedisBudget, in
shared.py), chosen from RATELIMIT_STORAGE_URI like the rate limits (setup.py). Unset, the
ceiling is off: nothing is counted, nothing paused, nothing stored.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from app.capillary import CapillaryError, RateLimited

logger = logging.getLogger(__name__)

# The APIs a lookup calls; a Call's kind names its API: points balance, promised-points
# schedule, customer details (name and tier), the points-expiry schedule and the points
# ledger (History).
APIS = ("balance", "schedule", "customer", "expiry", "ledger")
# The one counter of every API's calls together (the default reading of the ceiling).
ALL = "all"
WINDOW_SECONDS = 60
# A pause after a 429: its Retry-After, else a minute (the window the upstream counts in),
# never more than five minutes (an hour-long Retry-After must not shut the desk for an hour),
# never less than a second.
DEFAULT_PAUSE_SECONDS = 60.0
MAX_PAUSE_SECONDS = 300.0
MIN_PAUSE_SECONDS = 1.0
# Whose limit refused a reservation.
DESK, OWN, PAUSED = "desk", "own", "paused"


class BudgetExhausted(Exception):
    """A lookup refused before any call: the staff member's own share or the desk's minute
    is spent, or the upstream asked everyone to pause. retry_after: whole seconds until it
    could pass."""

    def __init__(self, retry_after: float, *, paused: bool, own: bool = False) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        self.paused = paused
        self.own = own and not paused
        if paused:
            reason = "upstream pause"
        elif self.own:
            reason = "staff member's share spent"
        else:
            reason = "calls per minute spent"
        super().__init__(f"{reason}; try again in {self.retry_after} s")


@dataclass(frozen=True, slots=True)
class Limits:
    """One counter's limits: the desk's ceiling, each person's cap, the reserve kept for
    staff who have used little of the minute."""

    ceiling: int
    per_staff: int
    reserve: int

    @property
    def light(self) -> int:
        """A person's own calls of the minute up to which they may draw on the reserve."""
        return self.reserve // 2


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a reservation was refused: seconds to wait, and whose limit (DESK, OWN, PAUSED)."""

    wait: float
    whose: str = DESK

    @property
    def paused(self) -> bool:
        """The 429 pause, not a count."""
        return self.whose == PAUSED


@dataclass(frozen=True, slots=True)
class Usage:
    """What a store knows right now: calls in the last minute per counter, the pause left."""

    used: Mapping[str, int]
    paused_for: float
    shared: bool  # counted for every worker and server (Redis), not just this process
    reachable: bool = True  # False: Redis did not answer; these are this process's counts


class BudgetStore(Protocol):
    """Where the minute's calls are counted."""

    def take(
        self, costs: Mapping[str, int], limits: Mapping[str, Limits], who: str | None
    ) -> Refusal | None:
        """Add every call of costs (counter -> calls) for who, or none; None when added."""

    def pause(self, seconds: float) -> None:
        """Refuse every reservation for this long (a longer pause already set stays)."""

    def usage(self, counters: Iterable[str]) -> Usage:
        """The calls in the last minute per counter and the pause left."""


class MemoryBudget:
    """The minute's calls in this process: a sliding 60 s window per counter, on the app clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # counter -> (when, calls, who) per reservation, oldest first.
        self._spent: dict[str, deque[tuple[datetime, int, str | None]]] = {}
        self._paused_until: datetime | None = None

    def take(
        self, costs: Mapping[str, int], limits: Mapping[str, Limits], who: str | None
    ) -> Refusal | None:
        """Add every call of costs for who, or none."""
        with self._lock:
            now = self._clock()
            paused = self._pause_left(now)
            if paused > 0:
                return Refusal(paused, PAUSED)
            own_wait = desk_wait = 0.0
            for counter, cost in costs.items():
                if cost <= 0:
                    continue
                spent = self._window(counter, now)
                mine = [(at, n) for at, n, by in spent if who is not None and by == who]
                used_mine = sum(n for _, n in mine)
                limit = limits[counter]
                if who is not None and used_mine + cost > limit.per_staff:
                    own_wait = max(own_wait, _wait(mine, used_mine + cost - limit.per_staff, now))
                used = sum(n for _, n, _ in spent)
                room = _room(limit, who, used_mine + cost)
                if used + cost > room:
                    entries = [(at, n) for at, n, _ in spent]
                    desk_wait = max(desk_wait, _wait(entries, used + cost - room, now))
            if desk_wait > 0:
                # The desk's words when it is spent too, however much was this person's.
                return Refusal(max(desk_wait, own_wait), DESK)
            if own_wait > 0:
                return Refusal(own_wait, OWN)
            for counter, cost in costs.items():
                if cost > 0:
                    self._spent.setdefault(counter, deque()).append((now, cost, who))
            return None

    def pause(self, seconds: float) -> None:
        """Refuse every reservation for this long."""
        with self._lock:
            until = self._clock() + timedelta(seconds=seconds)
            if self._paused_until is None or until > self._paused_until:
                self._paused_until = until

    def usage(self, counters: Iterable[str]) -> Usage:
        """The calls in the last minute per counter and the pause left."""
        with self._lock:
            now = self._clock()
            used = {c: sum(n for _, n, _ in self._window(c, now)) for c in counters}
            return Usage(used, self._pause_left(now), shared=False)

    def _window(self, counter: str, now: datetime) -> deque[tuple[datetime, int, str | None]]:
        spent = self._spent.setdefault(counter, deque())
        start = now - timedelta(seconds=WINDOW_SECONDS)
        while spent and spent[0][0] <= start:
            spent.popleft()
        return spent

    def _pause_left(self, now: datetime) -> float:
        if self._paused_until is None:
            return 0.0
        return max(0.0, (self._paused_until - now).total_seconds())


def _room(limit: Limits, who: str | None, own_after: int) -> int:
    """The calls of the minute this reservation may fill up to: the reserve is open only to
    a staff member whose own calls, this lookup's included, stay within its light share."""
    if who is not None and own_after <= limit.light:
        return limit.ceiling
    return limit.ceiling - limit.reserve


def _wait(spent: Iterable[tuple[datetime, int]], excess: int, now: datetime) -> float:
    """Seconds until `excess` of these calls (oldest first) leave the window."""
    freed = 0
    for at, n in spent:
        freed += n
        if freed >= excess:
            return max(0.0, (at + timedelta(seconds=WINDOW_SECONDS) - now).total_seconds())
    return float(WINDOW_SECONDS)  # never fits; the start-up check refuses such limits


class UpstreamBudget:
    """What the lookup service asks: may these calls go out, and "the upstream said 429"."""

    def __init__(
        self,
        limits: Mapping[str, Limits] | None,
        store: BudgetStore | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.limits = dict(limits) if limits and store is not None else None
        self.store = store if self.limits else None
        self._clock = clock

    @classmethod
    def unlimited(cls, clock: Callable[[], datetime]) -> UpstreamBudget:
        """No ceiling: nothing is counted or paused."""
        return cls(None, None, clock)

    @property
    def per_api(self) -> bool:
        """Each API has a ceiling of its own (else one ceiling for all together)."""
        return self.limits is not None and ALL not in self.limits

    @property
    def counters(self) -> tuple[str, ...]:
        """The counters kept: (ALL,) or one per API; () with no ceiling."""
        return tuple(self.limits) if self.limits else ()

    def costs(self, kinds: Iterable[str]) -> dict[str, int]:
        """Calls per counter of one call per kind ("balance", "schedule")."""
        per_kind = Counter(kinds)
        if not self.per_api:
            return {ALL: sum(per_kind.values())}
        return {api: per_kind.get(api, 0) for api in self.counters}

    def reserve(self, kinds: Iterable[str], who: str | None = None) -> None:
        """Reserve one call per kind, all or none, on who's share (None: no person's, e.g.
        the readiness probe, which never draws on the reserve); BudgetExhausted when they
        cannot all go out now."""
        if self.store is None or self.limits is None:
            return
        costs = self.costs(kinds)
        if not any(costs.values()):
            return
        refusal = self.store.take(costs, self.limits, who)
        if refusal is not None:
            refused = BudgetExhausted(refusal.wait, paused=refusal.paused, own=refusal.whose == OWN)
            # Counts only: nothing about the member, what was typed, or who asked.
            logger.warning(
                "lookup refused before any upstream call (%d calls): %s",
                sum(costs.values()),
                refused,
            )
            raise refused

    def try_reserve(self, kinds: Iterable[str]) -> bool:
        """Reserve calls for no staff member (the readiness probe); False when refused."""
        try:
            self.reserve(kinds)
        except BudgetExhausted:
            return False
        return True

    def after(self, errors: Iterable[CapillaryError | None]) -> None:
        """After a round of calls: a 429 among them pauses every worker until its Retry-After."""
        if self.store is None:
            return
        limited = [error for error in errors if isinstance(error, RateLimited)]
        if not limited:
            return
        seconds = max(pause_seconds(error, self._clock()) for error in limited)
        self.store.pause(seconds)
        logger.warning(
            "upstream answered 429 (too many requests): upstream calls paused for %.0f s",
            seconds,
        )

    def paused_for(self) -> float:
        """Seconds left of a pause after a 429 (0: none, or no ceiling)."""
        usage = self.usage()
        return usage.paused_for if usage is not None else 0.0

    def usage(self) -> Usage | None:
        """The store's figures, or None when there is no ceiling."""
        return self.store.usage(self.counters) if self.store is not None else None


def pause_seconds(error: RateLimited, now: datetime) -> float:
    """How long to pause after this 429: its Retry-After (delay or date), capped."""
    if error.retry_after is not None:
        seconds = error.retry_after
    elif error.retry_at is not None:
        seconds = (error.retry_at - now).total_seconds()
    else:
        seconds = DEFAULT_PAUSE_SECONDS
    return min(MAX_PAUSE_SECONDS, max(MIN_PAUSE_SECONDS, seconds))
