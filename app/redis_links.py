"""How the desk talks to a shared Redis (cache, upstream budget, rate limits): briefly, and
never at the cost of a lookup.

A loopback or same-rack Redis answers in well under a millisecond, so a call that takes
longer than REDIS_SOCKET_TIMEOUT is treated as a failure; the client library does not retry
on its own. The cache, the budget and the readiness verdict each hold a RedisLink: the client,
the errors that mean Redis is out, and a Breaker in front, so after a failure they leave Redis
alone for REDIS_BACKOFF_SECONDS, logging one warning per opening.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

REDIS_SOCKET_TIMEOUT = 0.2
REDIS_BACKOFF_SECONDS = 5.0


def client_options(socket_timeout: float = REDIS_SOCKET_TIMEOUT) -> dict[str, Any]:
    """redis-py keyword arguments: short socket timeouts and no retries inside the client
    (whoever uses it decides when Redis is tried again)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
    }


def connect(url: str, socket_timeout: float = REDIS_SOCKET_TIMEOUT) -> Any:
    """A redis.Redis client for url with client_options()."""
    import redis

    return redis.Redis.from_url(url, **client_options(socket_timeout))


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a Redis call raises when Redis is down, hung or answering nonsense."""
    import redis

    return (redis.RedisError, OSError)


class Breaker:
    """Open for backoff_seconds after each failure; one warning per opening, no traceback.

    `warning` is a %-format with two places: the failure's type and the backoff in seconds.
    It must never carry a key or value (keys hold member ids).
    """

    def __init__(self, logger: logging.Logger, warning: str, backoff_seconds: float) -> None:
        self._logger = logger
        self._warning = warning
        self.backoff_seconds = backoff_seconds
        self._lock = threading.Lock()
        self._down_until = 0.0

    @property
    def closed(self) -> bool:
        """True when Redis may be tried (no failure within the last backoff)."""
        return time.monotonic() >= self._down_until

    def trip(self, exc: BaseException) -> None:
        """Record a failure: open (again) for the backoff; warn unless already open."""
        with self._lock:
            already_open = time.monotonic() < self._down_until
            self._down_until = time.monotonic() + self.backoff_seconds
        if not already_open:
            self._logger.warning(self._warning, type(exc).__name__, self.backoff_seconds)


class RedisLink:
    """One user's link to a shared Redis: a client with short timeouts and no retries, the
    errors that mean Redis is down or hung, and a breaker with its own warning."""

    def __init__(
        self,
        url: str,
        logger: logging.Logger,
        warning: str,
        *,
        socket_timeout: float = REDIS_SOCKET_TIMEOUT,
        backoff_seconds: float = REDIS_BACKOFF_SECONDS,
    ) -> None:
        self.redis = connect(url, socket_timeout)
        self.errors = redis_errors()
        self.breaker = Breaker(logger, warning, backoff_seconds)

    @property
    def available(self) -> bool:
        """False while the breaker is open after a failure."""
        return self.breaker.closed

    def failed(self, exc: BaseException) -> None:
        """Record a failure: the breaker opens (again), with one warning per opening."""
        self.breaker.trip(exc)

    def close(self) -> None:
        """Release the connection pool."""
        self.redis.close()
