"""History's one upstream call: a page of the member's points ledger in a date window, made
only when History is opened, counted by the budget ("ledger"), cached by member id, window
and page like the member page's calls (never by an identifier)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from app import metrics
from app.capillary import CapillaryError, LedgerPage
from app.lookup.fetching.outcome import Outcome
from app.lookup.fetching.service import LookupService

logger = logging.getLogger(__name__)

# The API refuses a window longer than 60 days (11010): from the first day's start to the
# last day's end, that is 60 calendar days.
MAX_WINDOW_DAYS = 60
PAGE_SIZE = 10  # the smaller of the documented caps (10 and 100)
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class LedgerRequest:
    """Which page of which window: days in the cluster's zone, both ends included."""

    member_id: int
    start: date
    end: date
    page: int = 0  # the API's offset: the page number, from 0

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the window ends before it starts")
        if (self.end - self.start).days >= MAX_WINDOW_DAYS:
            raise ValueError(f"the window is at most {MAX_WINDOW_DAYS} days")
        if not 0 <= self.page <= MAX_PAGE:
            raise ValueError("no such page")

    def cache_key(self) -> str:
        """By member id, window and page; never by an identifier."""
        return f"ledger:{self.member_id}:{self.start}:{self.end}:{self.page}"

    def moments(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The window's first and last second in the zone."""
        first = datetime.combine(self.start, datetime.min.time(), tzinfo=zone)
        last = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        return first, last - timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class LedgerFetch:
    """The page's outcome and what it cost upstream."""

    outcome: Outcome[LedgerPage]
    upstream_calls: int
    upstream_ms: int


def fetch_ledger(
    service: LookupService,
    request: LedgerRequest,
    *,
    source: str,
    account_id: str | None = None,
    refresh: bool = False,
) -> LedgerFetch:
    """One page of the ledger: from the cache, else one budgeted call upstream."""
    key = request.cache_key()
    if not refresh:
        cached = service.cache.get(key)
        if isinstance(cached, Outcome):
            metrics.cache_lookups(1, 0)
            return LedgerFetch(cached, 0, 0)
        metrics.cache_lookups(0, 1)
    service.budget.reserve(["ledger"])
    client = service.client
    start, end = request.moments(client.cluster_timezone)
    started, label = time.monotonic(), metrics.OTHER
    value: Any = None
    error: CapillaryError | None = None
    try:
        value = client.get_ledger(
            request.member_id,
            start=start,
            end=end,
            offset=request.page,
            limit=PAGE_SIZE,
            source=source,
            account_id=account_id,
        )
        label = "ok"
    except CapillaryError as exc:
        error, label = exc, metrics.call_outcome(exc)
    seconds = time.monotonic() - started
    metrics.upstream_call("ledger", label, seconds)
    service.budget.after([error])
    outcome: Outcome[LedgerPage] = Outcome(value, error, service.clock())
    fresh = service.freshness
    ttl = fresh.cache_seconds if error is None else fresh.error_cache_seconds
    service.cache.set(key, outcome, ttl)
    elapsed_ms = round(seconds * 1000)
    logger.info("history fetched: 1 call upstream, %d ms", elapsed_ms)
    return LedgerFetch(outcome, 1, elapsed_ms)
