"""Rate-limit storage that degrades instead of failing when a shared Redis is down or hung.

Flask-Limiter raises from its storage on every request when Redis is unreachable (a 500 per
lookup) and, with no socket timeout, a hung Redis holds each request. Here a Redis storage
gets short socket timeouts and no client retries, and Flask-Limiter's in-memory fallback:
on the first failure it logs one warning and counts in this process until Redis answers
its (backed-off) health checks again.

The in-memory storage (``memory://``, and the fallback) gets one lock around its expiry timer:
see ``serialise_memory_expiry``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

from limits.storage import MemoryStorage

from app.redis_links import client_options

_SCHEDULE_EXPIRY = "_MemoryStorage__schedule_expiry"
_expiry_lock = threading.Lock()


def configure(config: MutableMapping[str, Any]) -> None:
    """Fill in the Flask-Limiter settings that keep lookups going through a Redis outage."""
    serialise_memory_expiry()
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if not uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return
    options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    # Short socket timeouts and no retries inside the client: the fallback decides when Redis
    # is tried again.
    for name, value in client_options().items():
        options.setdefault(name, value)
    config["RATELIMIT_STORAGE_OPTIONS"] = options


def serialise_memory_expiry() -> None:
    """One thread at a time checks and restarts the in-memory storage's expiry timer.

    limits 5.8.0 (the newest release) checks "is the timer alive?" and starts a new one with
    no lock, so two request threads counting at once can start the same Timer twice: one
    request's limit check raises "threads can only be started once" (Flask-Limiter then takes
    its storage for down and falls back, with a warning), or Python's thread table loses an
    entry ("Exception ignored in thread" on stderr). Upstream put a lock there after 5.8.0
    (alisaifee/limits#352, not yet released); this is the same lock, taken around limits' own
    method, and harmless beside theirs once a release has it. Idempotent.
    """
    schedule: Callable[[MemoryStorage], None] | None = MemoryStorage.__dict__.get(_SCHEDULE_EXPIRY)
    if schedule is None or getattr(schedule, "serialised", False):
        return

    @functools.wraps(schedule)
    def one_at_a_time(storage: MemoryStorage) -> None:
        with _expiry_lock:
            schedule(storage)

    one_at_a_time.serialised = True  # type: ignore[attr-defined]
    setattr(MemoryStorage, _SCHEDULE_EXPIRY, one_at_a_time)
