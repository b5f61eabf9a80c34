"""A short-lived store of upstream call outcomes, keyed by member id, never by identifier."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol


class OutcomeCache(Protocol):
    """What the lookup service needs from a cache backend."""

    def get(self, key: str) -> Any | None:
        """The stored value, or None when absent or expired."""

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store a value for ttl seconds."""


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

    def _evict(self, now: float) -> None:
        expired = [key for key, (expires, _) in self._entries.items() if expires <= now]
        for key in expired:
            del self._entries[key]
        if len(self._entries) >= self._max_entries:
            # Still full of live entries: drop the oldest-inserted tenth.
            for key in list(self._entries)[: self._max_entries // 10 or 1]:
                del self._entries[key]
