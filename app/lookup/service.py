"""The lookup service: plans the upstream calls for one member page and runs them in one round.

A page needs the balance for the chosen scope, one balance per configured program (the
all-programs balance is a single sum) and the promised-points schedule. All go out at once on
a shared, bounded pool; each outcome is cached by member id so that the page a lookup redirects
to, a reload, or a colleague's deep link costs no second round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from app import metrics
from app.capillary import (
    Balance,
    CapillaryClient,
    CapillaryError,
    MemberRef,
    PromisedSchedule,
    UpstreamTimeout,
)
from app.clock import SystemClock
from app.lookup.budget import UpstreamBudget
from app.lookup.budget_setup import build_budget
from app.lookup.cache import MemoryCache, OutcomeCache, RedisCache
from app.lookup.last_known import LastKnown
from app.lookup.outcome import Outcome
from app.lookup.scope import LookupParams

logger = logging.getLogger(__name__)

# Of the page deadline, kept for what follows the upstream wait: the redirect and rendering
# the page (a few milliseconds on a quiet server).
PAGE_MARGIN_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Call:
    """One upstream call of a page, independent of how the member is named."""

    kind: str  # "balance" or "schedule"
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

    @property
    def calls(self) -> list[Call]:
        """Each distinct call once."""
        unique: dict[Call, None] = {self.scope_balance: None}
        unique.update(dict.fromkeys(self.program_balances.values()))
        unique[self.schedule] = None
        return list(unique)


def plan_calls(params: LookupParams, programs: Mapping[int, str]) -> Plan:
    """Decide the calls for a page: scope balance, one balance per program, the schedule."""
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
    return Plan(scope, per_program, schedule)


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

    @property
    def outcomes(self) -> list[Outcome[Any]]:
        """Every call's outcome: the scope's balance, the schedule, each program's balance."""
        return [self.scope_balance, self.schedule, *self.program_balances.values()]

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


class LookupService:
    """Runs a page's calls concurrently on a shared pool, with caching and a page deadline."""

    def __init__(
        self,
        client: CapillaryClient,
        cache: OutcomeCache,
        pool: ThreadPoolExecutor,
        programs: Mapping[int, str],
        *,
        deadline: float,
        cache_seconds: float,
        error_cache_seconds: float,
        max_concurrent: int = 28,
        clock: Callable[[], datetime] | None = None,
        budget: UpstreamBudget | None = None,
        stale_max_seconds: float = 0.0,
    ) -> None:
        self.client = client
        self.cache = cache
        self.pool = pool
        self.programs = dict(programs)
        self.deadline = deadline
        self.cache_seconds = cache_seconds
        self.error_cache_seconds = error_cache_seconds
        self.clock = clock or SystemClock().now
        self.max_concurrent = max_concurrent
        # Calls per minute for every worker and server; unlimited unless configured.
        self.budget = budget or UpstreamBudget.unlimited(self.clock)
        self.last_known = LastKnown(cache, stale_max_seconds, self.clock)
        # The bulkhead: lookups beyond this many at once are turned away at the door, so a
        # hung upstream can hold at most this many request threads and /healthz stays fast.
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Claim one of the lookup slots without waiting; yields whether one was free."""
        granted = self._slots.acquire(blocking=False)
        try:
            yield granted
        finally:
            if granted:
                self._slots.release()

    def fetch(
        self,
        member: MemberRef,
        params: LookupParams,
        *,
        refresh: bool = False,
        deadline: float | None = None,
    ) -> MemberData:
        """Fetch everything for a page; by id the cache is used unless refresh is set.

        deadline: seconds left of the page's deadline, when earlier tries used some of it.
        """
        plan = plan_calls(params, self.programs)
        outcomes: dict[Call, Outcome[Any]] = {}
        if isinstance(member, int) and not refresh:
            keys = {call.cache_key(member): call for call in plan.calls}
            for key, cached in self.cache.get_many(keys).items():
                outcomes[keys[key]] = cached
            metrics.cache_lookups(len(outcomes), len(keys) - len(outcomes))
        missing = [call for call in plan.calls if call not in outcomes]
        # The one place a lookup is refused for the upstream budget: BudgetExhausted, raised
        # before any call goes out (the views answer the "desk is busy" page).
        self.budget.reserve(call.kind for call in missing)
        started = time.monotonic()
        fresh = self._run(member, params, missing, self.deadline if deadline is None else deadline)
        self.budget.after(outcome.error for outcome in fresh.values())
        outcomes.update(fresh)
        elapsed_ms = round((time.monotonic() - started) * 1000) if missing else 0

        member_id = member if isinstance(member, int) else _entity_id(outcomes.values())
        # Upstream outages replaced by last-known figures; the cache keeps what came back.
        self.last_known.keep(member, member_id, {call: outcomes[call] for call in missing})
        member_id, served = self.last_known.fill(member, member_id, outcomes)
        if member_id is not None and missing:
            self.cache.set_many(
                (call.cache_key(member_id), outcomes[call], self._ttl(outcomes[call]))
                for call in missing
            )
        outcomes = served
        logger.info(
            "lookup fetched: %d calls upstream, %d from cache, %d ms",
            len(missing),
            len(plan.calls) - len(missing),
            elapsed_ms,
        )
        errors = tuple(o.error for o in outcomes.values() if o.error is not None)
        return MemberData(
            member_id=member_id,
            params=params,
            scope_balance=outcomes[plan.scope_balance],
            program_balances={pid: outcomes[c] for pid, c in plan.program_balances.items()},
            schedule=outcomes[plan.schedule],
            upstream_calls=len(missing),
            upstream_ms=elapsed_ms,
            errors=errors,
        )

    def _run(
        self, member: MemberRef, params: LookupParams, calls: list[Call], deadline: float
    ) -> dict[Call, Outcome[Any]]:
        if not calls:
            return {}
        futures: dict[Future[Any], Call] = {
            self.pool.submit(call.run, self.client, member, params): call for call in calls
        }
        done, not_done = wait(futures, timeout=max(deadline, 0.0))
        results: dict[Call, Outcome[Any]] = {}
        for future in done:
            call = futures[future]
            try:
                results[call] = Outcome(future.result(), None, self.clock())
            except CapillaryError as exc:
                results[call] = Outcome(None, exc, self.clock())
        for future in not_done:
            # Past the page deadline: render without it. The call runs on and is discarded.
            future.cancel()
            results[futures[future]] = Outcome(
                None, UpstreamTimeout("page deadline passed"), self.clock()
            )
        return results

    def _ttl(self, outcome: Outcome[Any]) -> float:
        return self.cache_seconds if outcome.ok else self.error_cache_seconds


def _entity_id(outcomes: Any) -> int | None:
    for outcome in outcomes:
        if outcome.value is not None:
            return outcome.value.entity_id
    return None


def get_service() -> LookupService:
    """The app's lookup service."""
    return current_app.extensions["lookup"]


def init_app(app: Flask) -> None:
    """Create the app's lookup service: one bounded pool and one cache for all requests."""
    config = app.config
    pool = ThreadPoolExecutor(max_workers=config["LOOKUP_POOL_SIZE"], thread_name_prefix="upstream")
    app.extensions["lookup"] = LookupService(
        app.extensions["capillary"],
        build_cache(config),
        pool,
        config["CAPILLARY_PROGRAMS"],
        deadline=upstream_wait(config["LOOKUP_DEADLINE"]),
        cache_seconds=config["LOOKUP_CACHE_SECONDS"],
        error_cache_seconds=config["LOOKUP_ERROR_CACHE_SECONDS"],
        max_concurrent=config["LOOKUP_MAX_CONCURRENT"],
        clock=app.extensions["clock"].now,
        budget=build_budget(config, app.extensions["clock"].now),
        stale_max_seconds=config["LOOKUP_STALE_MAX_SECONDS"],
    )


def upstream_wait(page_deadline: float) -> float:
    """How long a page waits on the upstream: LOOKUP_DEADLINE is the most an agent waits from
    pressing Look up to the page, and the redirect and the page itself need a little of it."""
    return max(page_deadline - PAGE_MARGIN_SECONDS, page_deadline / 2)


def build_cache(config: Mapping[str, Any]) -> OutcomeCache:
    """A RedisCache when CACHE_REDIS_URL is set (several app servers), else in-process."""
    url = config.get("CACHE_REDIS_URL")
    if not url:
        return MemoryCache()
    from app.lookup import codec

    return RedisCache(
        url,
        encode=codec.encode_entry,
        decode=codec.decode_entry,
        prefix=config.get("CACHE_KEY_PREFIX") or "pointsdesk:v1:",
    )
