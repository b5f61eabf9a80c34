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

The in-memory storage (``memory://``, and the fallback) gets one long-lived expiry thread
instead of a Timer started by almost every count: see ``one_expiry_sweeper``.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import MutableMapping
from typing import Any

from limits.storage import MemoryStorage

from app.redis_links import REDIS_BACKOFF_SECONDS, client_options

LIMITER_LOGGER = "flask-limiter"

logger = logging.getLogger(__name__)

# limits' MemoryStorage methods replaced and called here (see one_expiry_sweeper).
_SCHEDULE_EXPIRY = "_MemoryStorage__schedule_expiry"
_EXPIRE_EVENTS = "_MemoryStorage__expire_events"
# How often a storage's expired counters are swept (memory only: see one_expiry_sweeper).
EXPIRY_SWEEP_SECONDS = 1.0
_sweepers: weakref.WeakKeyDictionary[MemoryStorage, Sweeper] = weakref.WeakKeyDictionary()
_sweepers_lock = threading.Lock()


def configure(config: MutableMapping[str, Any]) -> None:
    """Fill in the Flask-Limiter settings that keep lookups going through a Redis outage."""
    one_expiry_sweeper()
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


def one_expiry_sweeper() -> None:
    """Give every in-memory storage one long-lived expiry thread instead of a Timer a count.

    limits 5.8.0 (the newest release) sweeps expired counters with a 10 ms threading.Timer
    that it starts again on the first count after the last one ran: on a busy desk, a new
    thread for almost every request (258 for 200 lookups in bench/profile_lookup.py), each
    start a thread creation and a hand-over of the GIL inside the request. It also checks
    "is the timer alive?" and starts one with no lock, so two request threads counting at
    once could start the same Timer twice ("threads can only be started once", then
    Flask-Limiter's fallback and a warning; alisaifee/limits#352).

    Here a count makes sure one Sweeper runs for its storage (a lock taken only when none
    does) and the Sweeper calls limits' own sweep every EXPIRY_SWEEP_SECONDS. The sweep only
    frees memory: limits checks a counter's expiry and a window's timestamps when it reads
    them, so what is limited does not change. Idempotent.
    """
    current = MemoryStorage.__dict__.get(_SCHEDULE_EXPIRY)
    if current is None or getattr(current, "one_sweeper", False):
        return
    if not callable(getattr(MemoryStorage, _EXPIRE_EVENTS, None)):
        return  # limits changed its insides: leave its own timer be

    def keep_one_sweeper(storage: MemoryStorage) -> None:
        sweeper = _sweepers.get(storage)
        if sweeper is not None and sweeper.is_alive():
            return
        with _sweepers_lock:
            sweeper = _sweepers.get(storage)
            if sweeper is None or not sweeper.is_alive():
                sweeper = Sweeper(storage)
                _sweepers[storage] = sweeper
                sweeper.start()

    keep_one_sweeper.one_sweeper = True  # type: ignore[attr-defined]
    setattr(MemoryStorage, _SCHEDULE_EXPIRY, keep_one_sweeper)


class Sweeper(threading.Thread):
    """Sweeps one in-memory storage's expired counters now and then, until it is empty (the
    next count starts another) or gone."""

    def __init__(self, storage: MemoryStorage) -> None:
        super().__init__(name="rate-limit-expiry", daemon=True)
        self._storage = weakref.ref(storage)

    def run(self) -> None:
        """Sweep every EXPIRY_SWEEP_SECONDS; stop once nothing is left to sweep."""
        while True:
            time.sleep(EXPIRY_SWEEP_SECONDS)
            storage = self._storage()
            if storage is None:
                return
            try:
                getattr(storage, _EXPIRE_EVENTS)()
            except Exception:
                logger.exception("Sweeping expired in-memory rate-limit counters failed")
            # A count made while this one decides to stop finds it still alive and starts
            # none: its counter waits for the next count's sweeper (expired ones still count
            # for nothing, as above).
            if not storage.storage and not any(storage.events.values()):
                return
            del storage


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
