"""The lookup service: plans the upstream calls for one member page and runs them in one round.

A page's calls (plan.py) all go out at once on
a shared, bounded pool; each outcome is cached by member id so that the page a lookup redirects
to, a reload, or a colleague's deep link costs no second round.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_request_context

from app import metrics
from app.capillary import (
    CapillaryClient,
    CapillaryError,
    MemberRef,
    UpstreamTimeout,
)
from app.clock import SystemClock
from app.extensions import rate_limit_key
from app.lookup.budget.counts import UpstreamBudget
from app.lookup.budget.setup import build_budget
from app.lookup.fetching.cache import MemoryCache, OutcomeCache, RedisCache
from app.lookup.fetching.last_known import LastKnown
from app.lookup.fetching.outcome import MemberData, Outcome
from app.lookup.fetching.plan import Call, plan_calls
from app.lookup.fetching.scope import LookupParams

logger = logging.getLogger(__name__)

# Of the page deadline, kept for what follows the upstream wait: the redirect and rendering
# the page (a few milliseconds on a quiet server).
PAGE_MARGIN_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Freshness:
    """How long outcomes are reused: a success, a failure, and last-known figures (0: off)."""

    cache_seconds: float
    error_cache_seconds: float
    stale_max_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class StoryCalls:
    """Which of the member-story calls a page makes: customer details, the expiry schedule
    (a service built without settings makes neither; init_app reads LOOKUP_* for both)."""

    who: bool = False
    expiry: bool = False


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
        freshness: Freshness,
        clock: Callable[[], datetime] | None = None,
        budget: UpstreamBudget | None = None,
        story: StoryCalls | None = None,
    ) -> None:
        self.client = client
        self.story = story or StoryCalls()
        self.cache = cache
        self.pool = pool
        self.programs = dict(programs)
        self.deadline = deadline
        self.freshness = freshness
        self.clock = clock or SystemClock().now
        # Calls per minute for every worker and server; unlimited unless configured.
        self.budget = budget or UpstreamBudget.unlimited(self.clock)
        self.last_known = LastKnown(cache, freshness.stale_max_seconds, self.clock)

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
        plan = plan_calls(params, self.programs, who=self.story.who, expiry=self.story.expiry)
        outcomes: dict[Call, Outcome[Any]] = {}
        if isinstance(member, int) and not refresh:
            keys = {call.cache_key(member): call for call in plan.calls}
            for key, cached in self.cache.get_many(keys).items():
                outcomes[keys[key]] = cached
            metrics.cache_lookups(len(outcomes), len(keys) - len(outcomes))
        missing = [call for call in plan.calls if call not in outcomes]
        # The one place a lookup is refused for the upstream budget: BudgetExhausted, raised
        # before any call goes out (the views answer the "desk is busy" page), on the share
        # of the staff member asking.
        self.budget.reserve((call.kind for call in missing), who=_asking())
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
            who=outcomes[plan.who] if plan.who else None,
            expiry=outcomes[plan.expiry] if plan.expiry else None,
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
        if outcome.ok:
            return self.freshness.cache_seconds
        return self.freshness.error_cache_seconds


def _asking() -> str | None:
    """Whose share of the budget a lookup spends: the rate limits' key of the signed-in
    staff member (their address when none), or None outside a request."""
    if not has_request_context():
        return None
    return rate_limit_key()


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
    budget = build_budget(config, app.extensions["clock"].now)
    # The readiness probe (app/main) counts its calls here too, without importing lookup.
    app.extensions["upstream_budget"] = budget
    app.extensions["lookup"] = LookupService(
        app.extensions["capillary"],
        build_cache(config),
        pool,
        config["CAPILLARY_PROGRAMS"],
        deadline=upstream_wait(config["LOOKUP_DEADLINE"]),
        freshness=Freshness(
            cache_seconds=config["LOOKUP_CACHE_SECONDS"],
            error_cache_seconds=config["LOOKUP_ERROR_CACHE_SECONDS"],
            stale_max_seconds=config["LOOKUP_STALE_MAX_SECONDS"],
        ),
        clock=app.extensions["clock"].now,
        budget=budget,
        story=story_calls(config),
    )


def story_calls(config: Mapping[str, Any]) -> StoryCalls:
    """The member-story calls the settings ask for. Under dual eligibility the expiry API
    does not work (its documentation says so): it is not called, and the page says why."""
    return StoryCalls(
        who=bool(config.get("LOOKUP_MEMBER_DETAILS")),
        expiry=bool(config.get("LOOKUP_EXPIRY")) and not config.get("CAPILLARY_DUAL_ELIGIBILITY"),
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
    from app.lookup.fetching import codec

    return RedisCache(
        url,
        encode=codec.encode_entry,
        decode=codec.decode_entry,
        prefix=config.get("CACHE_KEY_PREFIX") or "pointsdesk:v1:",
    )
