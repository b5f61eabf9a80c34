"""How the client spends time and treats "try again later": its default limits and its retry
policy, each written once. The app's config defaults and the client's own defaults read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-call transport limits, in seconds (and bytes)."""

    # A little over a multiple of 3 s, the TCP SYN retransmit window.
    connect_timeout: float = 3.05
    # Generous for a "light" API that answers in well under a second.
    read_timeout: float = 10.0
    # One call, every retry included.
    deadline: float = 15.0
    retries: int = 2
    max_response_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which answers are worth another attempt, how long to pause, and which mean "busy"."""

    # HTTP statuses worth another attempt: the docs say retry 461 (search busy), 521 (another
    # action running for the member) and 503 (authorization status unavailable); 502/504 are
    # gateway blips, and so are a CDN's 520-524 (capillary-api.md 7.1: the docs' samples
    # carry Cloudflare cookies). 500 is not retried: the docs call it "failed"; repeating it
    # adds load.
    # Nor is 429: another attempt within the call spends more of the same per-minute limit;
    # the lookup side pauses every worker until Retry-After instead (app/lookup/budget/counts.py).
    statuses: frozenset[int] = frozenset({461, 502, 503, 504, 520, 521, 522, 523, 524})
    # The same "try again later" as a code inside errors[] (the docs allow both readings),
    # plus 4001 (authorization status unavailable).
    codes: frozenset[int] = frozenset({461, 502, 503, 504, 521, 4001})
    # Refusals that say "not now" rather than "not this member": too many requests, search
    # busy, another action running. Staff see "busy, try again", not a complaint about input.
    busy: frozenset[int] = frozenset({429, 461, 521})
    # Small, capped backoff (0.1, 0.2, 0.4, 0.5 s...): a staff member is waiting. Retry-After
    # is never honoured: "Retry-After: 3600" must not park a request for an hour.
    backoff_factor: float = 0.1
    backoff_max: float = 0.5
    # No new attempt starts with less than this left of the call deadline: it could only
    # time out, and the answer already in hand says more than "timed out" would.
    min_attempt_seconds: float = 0.1

    def pause_before(self, attempt: int) -> float:
        """Seconds to wait before attempt + 1."""
        return min(self.backoff_max, self.backoff_factor * 2 ** (attempt - 1))

    def is_busy(self, *codes: int | None) -> bool:
        """Whether any of these codes or statuses means "busy, try again later"."""
        return any(code in self.busy for code in codes if code is not None)


DEFAULT_LIMITS = Limits()
RETRY_POLICY = RetryPolicy()
