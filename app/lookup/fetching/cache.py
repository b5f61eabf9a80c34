"""A short-lived store of upstream call outcomes, keyed by member id, never by identifier.

In-process by default (MemoryCache); RedisCache when several app servers should share it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from app.redis_links import REDIS_BACKOFF_SECONDS, REDIS_SOCKET_TIMEOUT, RedisLink

logger = logging.getLogger(__name__)


class OutcomeCache(Protocol):
    """What the lookup service needs from a cache backend."""

    def get(self, key: str) -> Any | None:
        """The stored value, or None when absent or expired."""

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store a value for ttl seconds."""

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The live values among keys (absent ones are left out)."""

    def set_many(self, items: Iterable[tuple[str, Any, float]]) -> None:
        """Store (key, value, ttl) triples."""


class MemoryCache:
    """In-process TTL cache; thread-safe; bounded so a busy day cannot grow it without end."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: str) -> Any | None:
        """The stored value, or None when absent or expired."""
        with self._lock:
            item = self._entries.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= time.monotonic():
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store a value for ttl seconds (a ttl of 0 or less stores nothing)."""
        if ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._evict(now)
            self._entries[key] = (now + ttl, value)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The live values among keys (absent ones are left out)."""
        found = {key: self.get(key) for key in keys}
        return {key: value for key, value in found.items() if value is not None}

    def set_many(self, items: Iterable[tuple[str, Any, float]]) -> None:
        """Store (key, value, ttl) triples."""
        for key, value, ttl in items:
            self.set(key, value, ttl)

    def _evict(self, now: float) -> None:
        expired = [key for key, (expires, _) in self._entries.items() if expires <= now]
        for key in expired:
            del self._entries[key]
        if len(self._entries) >= self._max_entries:
            # Still full of live entries: drop the oldest-inserted tenth.
            for key in list(self._entries)[: self._max_entries // 10 or 1]:
                del self._entries[key]


class RedisCache:
    """Outcomes in a shared Redis, as JSON under a prefix with a TTL; degrades to no cache.

    Values go through encode/decode (never pickle). Any Redis failure logs one warning per
    backoff window and opens a circuit breaker: for REDIS_BACKOFF_SECONDS every get misses
    and every set is dropped without touching the network, so lookups run uncached at full
    speed until Redis is tried again.
    """

    def __init__(
        self,
        url: str,
        *,
        encode: Callable[[Any], bytes],
        decode: Callable[[bytes], Any],
        prefix: str = "pointsdesk:v1:",
        socket_timeout: float = REDIS_SOCKET_TIMEOUT,
        backoff_seconds: float = REDIS_BACKOFF_SECONDS,
    ) -> None:
        # A shared cache is an optimisation: when Redis is slow or gone, a lookup must not
        # wait on it (short timeouts, and the breaker skips Redis for a while after a failure).
        self._link = RedisLink(
            url,
            logger,
            # No key or value in the text: keys carry member ids.
            "Shared cache unavailable (%s); lookups run uncached, retrying in %.0f s",
            socket_timeout=socket_timeout,
            backoff_seconds=backoff_seconds,
        )
        self._encode = encode
        self._decode = decode
        self.prefix = prefix

    @property
    def available(self) -> bool:
        """False while the breaker is open after a failure."""
        return self._link.available

    def get(self, key: str) -> Any | None:
        """The stored value, or None when absent, expired, unreadable or Redis is down."""
        return self.get_many([key]).get(key)

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store a value for ttl seconds (0 or less stores nothing); dropped if Redis is down."""
        self.set_many([(key, value, ttl)])

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The live values among keys, in one round trip (MGET)."""
        keys = list(keys)
        if not keys or not self.available:
            return {}
        try:
            raw_values = self._link.redis.mget([self.prefix + key for key in keys])
        except self._link.errors as exc:
            self._link.failed(exc)
            return {}
        found: dict[str, Any] = {}
        unreadable = 0
        for key, raw in zip(keys, raw_values, strict=True):
            if raw is None:
                continue
            try:
                found[key] = self._decode(raw)
            except (ValueError, ArithmeticError):
                # Written by another version or damaged: a miss, refetched and overwritten.
                # (ArithmeticError: a decoder's Decimal("x") raises decimal.InvalidOperation.)
                unreadable += 1
        if unreadable:
            # One line per read, and no key: keys carry member ids.
            logger.warning("Ignoring %d cached outcome(s) that cannot be read", unreadable)
        return found

    def set_many(self, items: Iterable[tuple[str, Any, float]]) -> None:
        """Store (key, value, ttl) triples in one round trip (a pipeline of SETEX)."""
        entries = [(key, value, ttl) for key, value, ttl in items if ttl > 0]
        if not entries or not self.available:
            return
        try:
            pipe = self._link.redis.pipeline(transaction=False)
            for key, value, ttl in entries:
                # Millisecond TTL so short test TTLs are honoured; Redis expires the key.
                pipe.psetex(self.prefix + key, max(1, round(ttl * 1000)), self._encode(value))
            pipe.execute()
        except self._link.errors as exc:
            self._link.failed(exc)

    def ping(self) -> bool:
        """Whether Redis answers now (ignores the breaker)."""
        try:
            return bool(self._link.redis.ping())
        except self._link.errors:
            return False

    def close(self) -> None:
        """Release the connection pool."""
        self._link.redis.close()
