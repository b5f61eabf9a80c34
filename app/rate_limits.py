"""Rate-limit storage that degrades instead of failing when a shared Redis is down or hung.

Flask-Limiter raises from its storage on every request when Redis is unreachable (a 500 per
lookup) and, with no socket timeout, a hung Redis holds each request. Here a Redis storage
gets short socket timeouts and no client retries, and Flask-Limiter's in-memory fallback:
on the first failure it logs one warning and counts in this process until Redis answers
its (backed-off) health checks again.

The fallback takes over for the request that failed first only: others of the same process
already waiting on a stalled Redis fail after it has, and Flask-Limiter raises their errors
(a 500 each; 15 of 16 requests in one stall). With RATELIMIT_SWALLOW_ERRORS those few
requests go through unlimited instead, and the traceback Flask-Limiter logs for each
becomes one warning line per back-off period (QuietSwallowedErrors).

The in-memory storage (``memory://``, and the fallback) gets one lock around its expiry timer:
see ``serialise_memory_expiry``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from limits.storage import MemoryStorage

from app.redis_links import REDIS_BACKOFF_SECONDS, client_options

LIMITER_LOGGER = "flask-limiter"

_SCHEDULE_EXPIRY = "_MemoryStorage__schedule_expiry"
_expiry_lock = threading.Lock()


def configure(config: MutableMapping[str, Any]) -> None:
    """Fill in the Flask-Limiter settings that keep lookups going through a Redis outage."""
    serialise_memory_expiry()
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # A storage error the fallback did not take (see above) lets the request through.
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    quiet_swallowed_errors()
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


class QuietSwallowedErrors(logging.Filter):
    """Flask-Limiter's "... Swallowing error" records, logged with a traceback each, as one
    warning line (the error's type) at most once per back-off period; the rest dropped."""

    def __init__(self, every_seconds: float = REDIS_BACKOFF_SECONDS) -> None:
        super().__init__()
        self.every_seconds = every_seconds
        self._lock = threading.Lock()
        self._next = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a swallowed error's record, or drop it within the period."""
        if "Swallowing error" not in str(record.msg):
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                return False
            self._next = now + self.every_seconds
        error = record.exc_info[1] if record.exc_info else None
        record.msg = (
            "Rate limit storage failed (%s) before the in-memory fallback took this request; "
            "let through unlimited (said once per %.0f s)"
        )
        record.args = (type(error).__name__ if error else "unknown error", self.every_seconds)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_swallowed_errors() -> None:
    """Put QuietSwallowedErrors on Flask-Limiter's logger, once per process."""
    target = logging.getLogger(LIMITER_LOGGER)
    if not any(isinstance(f, QuietSwallowedErrors) for f in target.filters):
        target.addFilter(QuietSwallowedErrors())
