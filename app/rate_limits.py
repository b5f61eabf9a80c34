"""Rate-limit storage that degrades instead of failing when a shared Redis is down or hung.

Flask-Limiter raises from its storage on every request when Redis is unreachable (a 500 per
lookup) and, with no socket timeout, a hung Redis holds each request. Here a Redis storage
gets short socket timeouts and no client retries, and Flask-Limiter's in-memory fallback:
on the first failure it logs one warning and counts in this process until Redis answers
its (backed-off) health checks again.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from app.redis_links import client_options


def configure(config: MutableMapping[str, Any]) -> None:
    """Fill in the Flask-Limiter settings that keep lookups going through a Redis outage."""
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
