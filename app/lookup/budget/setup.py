"""The upstream budget the settings ask for: none, counted in this process, or in Redis."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from app.config_rules import budget_limits
from app.lookup.budget.counts import Limits, MemoryBudget, UpstreamBudget
from app.lookup.budget.shared import RedisBudget

DEFAULT_KEY_PREFIX = "pointsdesk:budget:"
SHARED_SCHEMES = ("redis://", "rediss://", "redis+unix://")


def build_budget(config: Mapping[str, Any], clock: Callable[[], datetime]) -> UpstreamBudget:
    """The budget the settings ask for: none, in this process, or in Redis."""
    limits = budget_limits(config)
    if limits is None:
        return UpstreamBudget.unlimited(clock)
    counters = {counter: Limits(*figures) for counter, figures in limits.items()}
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not uri.startswith(SHARED_SCHEMES):
        return UpstreamBudget(counters, MemoryBudget(clock), clock)
    prefix = config.get("CAPILLARY_BUDGET_KEY_PREFIX") or DEFAULT_KEY_PREFIX
    store = RedisBudget(uri, prefix, fallback=MemoryBudget(clock))
    return UpstreamBudget(counters, store, clock)
