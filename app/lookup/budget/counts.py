"""The shared upstream budget: at most CAPILLARY_CALLS_PER_MINUTE calls a minute to each API
(balance, schedule), counted where the rate limits are counted, and a pause for every worker
after the upstream answered "too many requests".

Capillary counts calls per minute, per API, per API key, across whoever uses the key. A
lookup reserves all the calls it is about to make, for both APIs at once, before it makes
any: all of them or none (a page half fetched would still spend the budget). A refusal says
how long until enough of the minute's calls age out, and no call goes upstream.

Counts live in this process (MemoryBudget, for memory://) or in Redis (RedisBudget, see
budget_redis.py), chosen from RATELIMIT_STORAGE_URI like the rate limits (budget_setup.py).
Unset, the ceiling is off: nothing is counted, nothing paused, nothing stored.
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

# The APIs counted separately, as Capillary counts them; a Call's kind names its API:
# points balance, promised-points schedule, customer details (name and tier), the
# points-expiry schedule and the points ledger (History).
APIS = ("balance", "schedule", "customer", "expiry", "ledger")
WINDOW_SECONDS = 60
# A pause after a 429: its Retry-After, else a minute (the window the upstream counts in),
# never more than five minutes (an hour-long Retry-After must not shut the desk for an hour),
# never less than a second.
DEFAULT_PAUSE_SECONDS = 60.0
MAX_PAUSE_SECONDS = 300.0
MIN_PAUSE_SECONDS = 1.0


class BudgetExhausted(Exception):
    """A lookup refused before any call: the minute's budget cannot cover its calls, or the
    upstream asked everyone to pause. retry_after: whole seconds until it could pass."""

    def __init__(self, retry_after: float, *, paused: bool) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        self.paused = paused
        reason = "upstream pause" if paused else "calls per minute spent"
        super().__init__(f"{reason}; try again in {self.retry_after} s")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a reservation was refused: seconds to wait, and whether it is the 429 pause."""

    wait: float
    paused: bool


@dataclass(frozen=True, slots=True)
class Usage:
    """What a store knows right now: calls in the last minute per API, the pause left."""

    used: Mapping[str, int]
    paused_for: float
    shared: bool  # counted for every worker and server (Redis), not just this process
    reachable: bool = True  # False: Redis did not answer; these are this process's counts


class BudgetStore(Protocol):
    """Where the minute's calls are counted."""

    def take(self, costs: Mapping[str, int], ceiling: int) -> Refusal | None:
        """Add every call of costs, or none; None when added, else the refusal."""

    def pause(self, seconds: float) -> None:
        """Refuse every reservation for this long (a longer pause already set stays)."""

    def usage(self) -> Usage:
        """The calls in the last minute per API and the pause left."""


class MemoryBudget:
    """The minute's calls in this process: a sliding 60 s window per API, on the app clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._spent: dict[str, deque[tuple[datetime, int]]] = {api: deque() for api in APIS}
        self._paused_until: datetime | None = None

    def take(self, costs: Mapping[str, int], ceiling: int) -> Refusal | None:
        """Add every call of costs, or none."""
        with self._lock:
            now = self._clock()
            paused = self._pause_left(now)
            if paused > 0:
                return Refusal(paused, paused=True)
            wait = 0.0
            for api, cost in costs.items():
                if cost > 0:
                    wait = max(wait, self._wait_for(api, cost, ceiling, now))
            if wait > 0:
                return Refusal(wait, paused=False)
            for api, cost in costs.items():
                if cost > 0:
                    self._spent[api].append((now, cost))
            return None

    def pause(self, seconds: float) -> None:
        """Refuse every reservation for this long."""
        with self._lock:
            until = self._clock() + timedelta(seconds=seconds)
            if self._paused_until is None or until > self._paused_until:
                self._paused_until = until

    def usage(self) -> Usage:
        """The calls in the last minute per API and the pause left."""
        with self._lock:
            now = self._clock()
            used = {api: sum(n for _, n in self._window(api, now)) for api in APIS}
            return Usage(used, self._pause_left(now), shared=False)

    def _window(self, api: str, now: datetime) -> deque[tuple[datetime, int]]:
        spent = self._spent[api]
        start = now - timedelta(seconds=WINDOW_SECONDS)
        while spent and spent[0][0] <= start:
            spent.popleft()
        return spent

    def _wait_for(self, api: str, cost: int, ceiling: int, now: datetime) -> float:
        """Seconds until cost more calls fit under the ceiling (0: they fit now)."""
        spent = self._window(api, now)
        excess = sum(n for _, n in spent) + cost - ceiling
        if excess <= 0:
            return 0.0
        if cost > ceiling:
            return float(WINDOW_SECONDS)  # never fits; the start-up check refuses this
        freed = 0
        for at, n in spent:
            freed += n
            if freed >= excess:
                return (at + timedelta(seconds=WINDOW_SECONDS) - now).total_seconds()
        return float(WINDOW_SECONDS)

    def _pause_left(self, now: datetime) -> float:
        if self._paused_until is None:
            return 0.0
        return max(0.0, (self._paused_until - now).total_seconds())


class UpstreamBudget:
    """What the lookup service asks: may these calls go out, and "the upstream said 429"."""

    def __init__(
        self,
        ceiling: int | None,
        store: BudgetStore | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.ceiling = ceiling if store is not None else None
        self.store = store if ceiling is not None else None
        self._clock = clock

    @classmethod
    def unlimited(cls, clock: Callable[[], datetime]) -> UpstreamBudget:
        """No ceiling: nothing is counted or paused."""
        return cls(None, None, clock)

    def reserve(self, kinds: Iterable[str]) -> None:
        """Reserve one call per kind (one of APIS), all or none; BudgetExhausted
        when they cannot all go out now."""
        if self.store is None or self.ceiling is None:
            return
        costs = Counter(kinds)
        if not costs:
            return
        refusal = self.store.take({api: costs.get(api, 0) for api in APIS}, self.ceiling)
        if refusal is not None:
            refused = BudgetExhausted(refusal.wait, paused=refusal.paused)
            # Counts only: nothing about the member or what was typed.
            logger.warning(
                "lookup refused before any upstream call (%s): %s",
                ", ".join(f"{costs[api]} {api}" for api in APIS if costs.get(api)),
                refused,
            )
            raise refused

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

    def usage(self) -> Usage | None:
        """The store's figures, or None when there is no ceiling."""
        return self.store.usage() if self.store is not None else None


def pause_seconds(error: RateLimited, now: datetime) -> float:
    """How long to pause after this 429: its Retry-After (delay or date), capped."""
    if error.retry_after is not None:
        seconds = error.retry_after
    elif error.retry_at is not None:
        seconds = (error.retry_at - now).total_seconds()
    else:
        seconds = DEFAULT_PAUSE_SECONDS
    return min(MAX_PAUSE_SECONDS, max(MIN_PAUSE_SECONDS, seconds))
