"""The operators' figures, in the Prometheus text format at /metrics (app/main/metrics_views.py).

Every metric object lives here, made once per process when this module is first imported
(the test suite builds many apps in one process; each would otherwise register them again),
and the rest of the code calls the small functions below. Label values come from short
fixed sets only: never a member id, an identifier or a staff name.

Under gunicorn each worker process counts on its own; with PROMETHEUS_MULTIPROC_DIR set
(gunicorn.conf.py sets it) prometheus_client keeps those counts in files in that directory
and /metrics adds up every worker's, so a scrape sees the server, not one worker.

The functions, for the code that counts:
- observe_lookup(page, outcome, seconds): one lookup view (search, member, refresh) and how
  its lookup ended (found, not_found, upstream_error, or none when no lookup was made);
- upstream_call(api, outcome, seconds): one call upstream (api "balance" or "schedule");
  call_outcome(error) names the outcome for the CapillaryError it raised, or None;
- cache_lookups(hits, misses): the cached outcomes a page found and did not find;
- stale_page(): a page shown with figures older than the cache period, because the upstream
  failed (call it once per page, where the stale figures are chosen);
- budget_refusal(): an upstream call refused because the calls-per-minute budget is spent
  (call it once per refused lookup); share_refusal() as well when it was the staff member's
  own share that was spent (no staff name: a count);
- busy_page(): a lookup turned away because every lookup slot was busy.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from app.capillary import (
    AccessDenied,
    CapillaryError,
    MalformedResponse,
    MemberNotFound,
    UpstreamApiError,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

PAGES = ("search", "member", "refresh", "history")
LOOKUP_OUTCOMES = ("found", "not_found", "upstream_error", "none")
APIS = ("balance", "schedule", "customer", "expiry", "ledger")
# Most specific first: the first class an error is an instance of names its outcome.
CALL_OUTCOMES: tuple[tuple[type[CapillaryError], str], ...] = (
    (MemberNotFound, "not_found"),
    (AccessDenied, "access_denied"),
    (UpstreamApiError, "api_error"),
    (UpstreamTimeout, "timeout"),
    (UpstreamMisconfigured, "misconfigured"),
    (UpstreamUnavailable, "unavailable"),
    (MalformedResponse, "malformed"),
)
OTHER = "other"

# Buckets in seconds: a cached page takes milliseconds, a lookup upstream a few hundred
# of them, and the page deadline (LOOKUP_DEADLINE, 20 s by default) bounds the slowest.
LOOKUP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)

# No *_created series: Prometheus does not need them, and they double the exposition.
disable_created_metrics()

LOOKUP_SECONDS = Histogram(
    "pointsdesk_lookup_seconds",
    "Time a lookup view took, by page (search, member, refresh, history) and lookup outcome.",
    ("page", "outcome"),
    buckets=LOOKUP_BUCKETS,
)
UPSTREAM_CALL_SECONDS = Histogram(
    "pointsdesk_upstream_call_seconds",
    "Time one upstream call took (retries included), by API and outcome; _count is the calls.",
    ("api", "outcome"),
    buckets=CALL_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "pointsdesk_cache_lookups",
    "Cached call outcomes looked for by member pages, by result (hit or miss).",
    ("result",),
)
STALE_PAGES = Counter(
    "pointsdesk_stale_pages",
    "Member pages shown with stale figures because the upstream failed.",
)
BUDGET_REFUSALS = Counter(
    "pointsdesk_budget_refusals",
    "Lookups refused because the upstream calls-per-minute budget was spent.",
)
SHARE_REFUSALS = Counter(
    "pointsdesk_share_refusals",
    "Lookups refused because the staff member's own share of the upstream budget was spent.",
)
BUSY_PAGES = Counter(
    "pointsdesk_busy_pages",
    "Lookups turned away with the busy page because every lookup slot was taken.",
)
# Both results exist from the start, so a rate over them is never missing a series.
for _result in ("hit", "miss"):
    CACHE_LOOKUPS.labels(_result)


def observe_lookup(page: str, outcome: str, seconds: float) -> None:
    """Count one lookup view and its time."""
    page = page if page in PAGES else OTHER
    outcome = outcome if outcome in LOOKUP_OUTCOMES else OTHER
    LOOKUP_SECONDS.labels(page, outcome).observe(seconds)


def call_outcome(error: BaseException | None) -> str:
    """The outcome label of an upstream call that raised this error (None: it answered)."""
    if error is None:
        return "ok"
    for kind, name in CALL_OUTCOMES:
        if isinstance(error, kind):
            return name
    return OTHER


def upstream_call(api: str, outcome: str, seconds: float) -> None:
    """Count one upstream call, its outcome and its time."""
    api = api if api in APIS else OTHER
    UPSTREAM_CALL_SECONDS.labels(api, outcome).observe(seconds)


def cache_lookups(hits: int, misses: int) -> None:
    """Count the cached outcomes a page found (hits) and did not find (misses)."""
    if hits:
        CACHE_LOOKUPS.labels("hit").inc(hits)
    if misses:
        CACHE_LOOKUPS.labels("miss").inc(misses)


def stale_page() -> None:
    """Count one page shown with stale figures."""
    STALE_PAGES.inc()


def budget_refusal() -> None:
    """Count one lookup refused by the upstream calls budget."""
    BUDGET_REFUSALS.inc()


def share_refusal() -> None:
    """Count one lookup refused for its staff member's own share of the budget."""
    SHARE_REFUSALS.inc()


def busy_page() -> None:
    """Count one lookup turned away as busy."""
    BUSY_PAGES.inc()


def exposition() -> tuple[bytes, str]:
    """The text exposition and its content type: every worker's figures added up when
    PROMETHEUS_MULTIPROC_DIR is set, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
