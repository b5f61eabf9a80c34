"""The upstream budget in Redis: one count for every worker and app server.

One sorted set per API holds a member per call reserved in the last minute, scored by the
Redis server's own clock in milliseconds (every server reads the same clock, so no two
disagree about what "the last minute" is); a key with a PX expiry holds the pause after a
429. A Lua script checks both APIs and adds every reserved call or none, in one atomic step.

A Redis that is down or slow must not stop lookups: like the shared cache, any failure
opens a breaker for a few seconds (one warning per opening), and meanwhile this process
counts on its own (the in-memory budget, same ceiling), as the rate limits' fallback does.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from app.lookup.budget.counts import APIS, WINDOW_SECONDS, MemoryBudget, Refusal, Usage
from app.redis_links import (
    REDIS_BACKOFF_SECONDS,
    REDIS_SOCKET_TIMEOUT,
    Breaker,
    connect,
    redis_errors,
)

logger = logging.getLogger(__name__)

# KEYS: one sorted set per API (APIS order), then the pause key.
# ARGV: ceiling, window in ms, a token unique to this reservation, then one cost per API.
# Returns {1, 0} when every call was added, {0, ms to wait, 1 if paused else 0} when none.
TAKE = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause_key = KEYS[#KEYS]
local paused = redis.call('PTTL', pause_key)
if paused > 0 then return {0, paused, 1} end
local ceiling = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for i = 1, #KEYS - 1 do
  local cost = tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if cost > 0 then
    local excess = redis.call('ZCARD', KEYS[i]) + cost - ceiling
    if excess > 0 then
      local free_at = now + window
      if cost <= ceiling then
        local oldest = redis.call('ZRANGE', KEYS[i], excess - 1, excess - 1, 'WITHSCORES')
        free_at = tonumber(oldest[2]) + window
      end
      wait = math.max(wait, free_at - now)
    end
  end
end
if wait > 0 then return {0, wait, 0} end
for i = 1, #KEYS - 1 do
  local cost = tonumber(ARGV[3 + i])
  for n = 1, cost do
    redis.call('ZADD', KEYS[i], now, ARGV[3] .. ':' .. n)
  end
  if cost > 0 then redis.call('PEXPIRE', KEYS[i], window) end
end
return {1, 0}
"""

# KEYS: as TAKE. ARGV: window in ms. Returns the calls in the window per API, then the
# pause's milliseconds left (negative when none).
USAGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS - 1 do
  out[i] = redis.call('ZCOUNT', KEYS[i], '(' .. (now - tonumber(ARGV[1])), '+inf')
end
out[#KEYS] = redis.call('PTTL', KEYS[#KEYS])
return out
"""

# KEYS: the pause key. ARGV: ms. A longer pause already set stays.
PAUSE = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


def redis_url(storage_uri: str) -> str:
    """The redis-py URL of a Flask-Limiter storage URI (redis+unix:// is unix:// there)."""
    if storage_uri.startswith("redis+unix://"):
        return "unix://" + storage_uri.removeprefix("redis+unix://")
    return storage_uri


class RedisBudget:
    """The minute's calls in Redis, shared by every worker and app server."""

    def __init__(
        self,
        storage_uri: str,
        prefix: str,
        *,
        fallback: MemoryBudget,
        socket_timeout: float = REDIS_SOCKET_TIMEOUT,
        backoff_seconds: float = REDIS_BACKOFF_SECONDS,
    ) -> None:
        self._redis = connect(redis_url(storage_uri), socket_timeout)
        self._errors = redis_errors()
        self.prefix = prefix
        self._keys = [prefix + api for api in APIS] + [prefix + "paused"]
        self._take = self._redis.register_script(TAKE)
        self._usage = self._redis.register_script(USAGE)
        self._pause = self._redis.register_script(PAUSE)
        self._fallback = fallback
        self._breaker = Breaker(
            logger,
            "Shared upstream budget unavailable (%s); this process counts its own calls "
            "against the ceiling, retrying Redis in %.0f s",
            backoff_seconds,
        )

    @property
    def available(self) -> bool:
        """False while the breaker is open after a failure."""
        return self._breaker.closed

    def take(self, costs: Mapping[str, int], ceiling: int) -> Refusal | None:
        """Add every call of costs, or none, atomically for every worker."""
        if not self.available:
            return self._fallback.take(costs, ceiling)
        args = [ceiling, WINDOW_SECONDS * 1000, uuid.uuid4().hex]
        args += [int(costs.get(api, 0)) for api in APIS]
        try:
            answer = self._take(keys=self._keys, args=args)
        except self._errors as exc:
            self._breaker.trip(exc)
            return self._fallback.take(costs, ceiling)
        if int(answer[0]) == 1:
            return None
        return Refusal(int(answer[1]) / 1000, paused=int(answer[2]) == 1)

    def pause(self, seconds: float) -> None:
        """Refuse every worker's reservations for this long."""
        self._fallback.pause(seconds)  # kept here too, in case Redis fails before it ends
        if not self.available:
            return
        try:
            self._pause(keys=[self._keys[-1]], args=[max(1, round(seconds * 1000))])
        except self._errors as exc:
            self._breaker.trip(exc)

    def usage(self) -> Usage:
        """The calls every worker made in the last minute, and the pause left."""
        if self.available:
            try:
                answer = self._usage(keys=self._keys, args=[WINDOW_SECONDS * 1000])
            except self._errors as exc:
                self._breaker.trip(exc)
            else:
                used = {api: int(n) for api, n in zip(APIS, answer, strict=False)}
                return Usage(used, max(0, int(answer[-1])) / 1000, shared=True)
        local = self._fallback.usage()
        return Usage(local.used, local.paused_for, shared=True, reachable=False)

    def close(self) -> None:
        """Release the connection pool."""
        self._redis.close()
