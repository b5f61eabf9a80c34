"""The upstream budget in Redis: one count for every worker and app server.

One sorted set per counter (ALL, or one per API) holds a member per call reserved in the
last minute, and one per counter and staff member holds that person's; each is scored by
the Redis server's own clock in milliseconds (every server reads the same clock, so no two
disagree about what "the last minute" is). A key with a PX expiry holds the pause after a
429. A Lua script checks every counter, the person's cap and the reserve, and adds every
reserved call or none, in one atomic step.

Staff are named in the keys by a short hash of their rate-limit key, not by name.

A Redis that is down or slow must not stop lookups: like the shared cache, any failure
opens a breaker for a few seconds (one warning per opening), and meanwhile this process
counts on its own (the in-memory budget, same limits), as the rate limits' fallback does.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Mapping

from app.lookup.budget.counts import (
    DESK,
    OWN,
    PAUSED,
    WINDOW_SECONDS,
    Limits,
    MemoryBudget,
    Refusal,
    Usage,
)
from app.redis_links import REDIS_BACKOFF_SECONDS, REDIS_SOCKET_TIMEOUT, RedisLink

logger = logging.getLogger(__name__)

# KEYS: per counter a pair (the desk's set, this person's set), then the pause key.
# ARGV: window in ms, a token unique to this reservation, 1 when a person asks (else 0),
# then per counter: cost, ceiling, per-person cap, reserve.
# Returns {1, 0} when every call was added, else {0, ms to wait, whose}: 1 the 429 pause,
# 0 the desk's ceiling (also when the person's cap is passed too), 2 the person's cap alone.
TAKE = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause_key = KEYS[#KEYS]
local paused = redis.call('PTTL', pause_key)
if paused > 0 then return {0, paused, 1} end
local window = tonumber(ARGV[1])
local person = ARGV[3] == '1'
local counters = (#KEYS - 1) / 2
local function wait_for(key, excess, count)
  if excess > count then return window end
  local oldest = redis.call('ZRANGE', key, excess - 1, excess - 1, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
local own_wait, desk_wait = 0, 0
for i = 1, counters do
  local desk, mine = KEYS[2 * i - 1], KEYS[2 * i]
  local at = 3 + (i - 1) * 4
  local cost, ceiling = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local cap, reserve = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  redis.call('ZREMRANGEBYSCORE', desk, '-inf', now - window)
  if person then redis.call('ZREMRANGEBYSCORE', mine, '-inf', now - window) end
  if cost > 0 then
    local used_mine = 0
    if person then
      used_mine = redis.call('ZCARD', mine)
      if used_mine + cost > cap then
        own_wait = math.max(own_wait, wait_for(mine, used_mine + cost - cap, used_mine))
      end
    end
    local used = redis.call('ZCARD', desk)
    local room = ceiling - reserve
    if person and used_mine + cost <= math.floor(reserve / 2) then room = ceiling end
    if used + cost > room then
      desk_wait = math.max(desk_wait, wait_for(desk, used + cost - room, used))
    end
  end
end
if desk_wait > 0 then return {0, math.max(desk_wait, own_wait), 0} end
if own_wait > 0 then return {0, own_wait, 2} end
for i = 1, counters do
  local desk, mine = KEYS[2 * i - 1], KEYS[2 * i]
  local cost = tonumber(ARGV[3 + (i - 1) * 4 + 1])
  for n = 1, cost do
    redis.call('ZADD', desk, now, ARGV[2] .. ':' .. n)
    if person then redis.call('ZADD', mine, now, ARGV[2] .. ':' .. n) end
  end
  if cost > 0 then
    redis.call('PEXPIRE', desk, window)
    if person then redis.call('PEXPIRE', mine, window) end
  end
end
return {1, 0}
"""

# KEYS: one desk set per counter, then the pause key. ARGV: window in ms. Returns the calls
# in the window per counter, then the pause's milliseconds left (negative when none).
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
        self._link = RedisLink(
            redis_url(storage_uri),
            logger,
            "Shared upstream budget unavailable (%s); this process counts its own calls "
            "against the ceiling, retrying Redis in %.0f s",
            socket_timeout=socket_timeout,
            backoff_seconds=backoff_seconds,
        )
        self.prefix = prefix
        self.pause_key = prefix + "paused"
        self._take = self._link.redis.register_script(TAKE)
        self._usage = self._link.redis.register_script(USAGE)
        self._pause = self._link.redis.register_script(PAUSE)
        self._fallback = fallback

    @property
    def available(self) -> bool:
        """False while the breaker is open after a failure."""
        return self._link.available

    def staff_key(self, counter: str, who: str | None) -> str:
        """The key of who's calls on this counter (a hash: no staff name in Redis)."""
        tag = hashlib.sha256(who.encode()).hexdigest()[:20] if who is not None else "-"
        return f"{self.prefix}{counter}:staff:{tag}"

    def take(
        self, costs: Mapping[str, int], limits: Mapping[str, Limits], who: str | None
    ) -> Refusal | None:
        """Add every call of costs for who, or none, atomically for every worker."""
        if not self.available:
            return self._fallback.take(costs, limits, who)
        keys: list[str] = []
        args: list[object] = [WINDOW_SECONDS * 1000, uuid.uuid4().hex, int(who is not None)]
        for counter, cost in costs.items():
            limit = limits[counter]
            keys += [self.prefix + counter, self.staff_key(counter, who)]
            args += [int(cost), limit.ceiling, limit.per_staff, limit.reserve]
        try:
            answer = self._take(keys=[*keys, self.pause_key], args=args)
        except self._link.errors as exc:
            self._link.failed(exc)
            return self._fallback.take(costs, limits, who)
        if int(answer[0]) == 1:
            return None
        whose = {1: PAUSED, 2: OWN}.get(int(answer[2]), DESK)
        return Refusal(int(answer[1]) / 1000, whose)

    def pause(self, seconds: float) -> None:
        """Refuse every worker's reservations for this long."""
        self._fallback.pause(seconds)  # kept here too, in case Redis fails before it ends
        if not self.available:
            return
        try:
            self._pause(keys=[self.pause_key], args=[max(1, round(seconds * 1000))])
        except self._link.errors as exc:
            self._link.failed(exc)

    def usage(self, counters: Iterable[str]) -> Usage:
        """The calls every worker made in the last minute, and the pause left."""
        counters = tuple(counters)
        if self.available:
            keys = [self.prefix + counter for counter in counters]
            try:
                answer = self._usage(keys=[*keys, self.pause_key], args=[WINDOW_SECONDS * 1000])
            except self._link.errors as exc:
                self._link.failed(exc)
            else:
                used = {c: int(n) for c, n in zip(counters, answer, strict=False)}
                return Usage(used, max(0, int(answer[-1])) / 1000, shared=True)
        local = self._fallback.usage(counters)
        return Usage(local.used, local.paused_for, shared=True, reachable=False)

    def close(self) -> None:
        """Release the connection pool."""
        self._link.redis.close()
