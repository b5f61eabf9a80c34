"""Last-known figures: when the upstream does not answer now, the figures it gave last time.

Every call that succeeds is also kept as the member's last-known figures for that call, for
LOOKUP_STALE_MAX_SECONDS (default a day), in the lookup service's own cache under a key of
its own ("last:" + the call's key: member id and parameters). A fresh answer overwrites it.
When a call fails because the upstream is out (unreachable, timed out, busy, unreadable) and
its last-known figures are younger than the maximum by the app's clock, the page shows them
instead, marked with the failure of the call just made (Outcome.stale_because), so that the
page can say which figures are last known and why. An answer about the member ("not found",
"unknown program", "dates refused", "not allowed") is never replaced: it is the answer.

A lookup by mobile, email or card when every call fails has no member id to find figures
under, so each lookup by identifier that finds a member also keeps a map from the
identifier to the member id. Its key is a keyed hash (HMAC under a key derived from
AUDIT_HASH_KEY) of each identifier's type and exact value as sent upstream, never the
identifier itself. Not the audit trail's hash: that one folds case and punctuation so that
staff can search in any spelling, but Capillary matches an external id exactly ("ext-doc-1"
and "EXT-DOC-1" are two members), and the map must never name the other one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from flask import current_app

from app.capillary import (
    RETRY_POLICY,
    CapillaryError,
    MalformedResponse,
    MemberLookup,
    MemberRef,
    UpstreamApiError,
    UpstreamUnavailable,
)
from app.lookup.fetching.cache import OutcomeCache
from app.lookup.fetching.outcome import Outcome

logger = logging.getLogger(__name__)

LAST_PREFIX = "last:"
# "who2": the map keyed by the exact value (entries under "who:" used the folding hash).
WHO_PREFIX = "who2:"


class KeyedCall(Protocol):
    """What this module needs of a planned call (service.Call): its cache key."""

    def cache_key(self, member_id: int) -> str:
        """The call's key for this member: member id and parameters, never an identifier."""
        ...


K = TypeVar("K", bound=KeyedCall)


def is_outage(error: CapillaryError | None) -> bool:
    """Whether the call failed because the upstream is out, not because of what was asked.

    Unreachable, timed out (the call's or the page's deadline), misconfigured, busy, a 5xx
    inside errors[], or an answer that cannot be read. Not "not found", a refused program or
    dates, or "not allowed": those are the upstream's answer and are shown as such.
    """
    if isinstance(error, UpstreamUnavailable | MalformedResponse):
        return True
    if type(error) is UpstreamApiError:
        codes = (error.code, error.status)
        return RETRY_POLICY.is_busy(*codes) or any(
            code is not None and 500 <= code < 600 for code in codes
        )
    return False


def exact_hash(name: str, value: str) -> str:
    """HMAC-SHA256 (hex) of an identifier's type and exact value, as sent upstream."""
    base = current_app.config["AUDIT_HASH_KEY"].encode("utf-8")
    key = hmac.new(base, b"points-desk last-known identifier map v1", hashlib.sha256).digest()
    message = f"{name}\n{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def who_key(member: MemberLookup) -> str:
    """The identifier map's key for a lookup: each identifier's kind and the keyed hash of
    its exact value, and the source the lookup names (a member found at one source may not
    be at another)."""
    parts = [member.source, member.account_id or ""]
    for identifier in member.identifiers:
        parts += [identifier.name, exact_hash(identifier.name, identifier.value)]
    return WHO_PREFIX + ":".join(parts)


class LastKnown:
    """The last-known figures of each call and the identifier map, in the lookup cache."""

    def __init__(
        self, cache: OutcomeCache, max_seconds: float, clock: Callable[[], datetime]
    ) -> None:
        self.cache = cache
        self.max_seconds = max_seconds
        self.clock = clock

    @property
    def enabled(self) -> bool:
        """Off when LOOKUP_STALE_MAX_SECONDS is 0."""
        return self.max_seconds > 0

    def keep(
        self, member: MemberRef, member_id: int | None, fresh: Mapping[K, Outcome[Any]]
    ) -> None:
        """Keep the calls that succeeded just now as the member's last-known figures, and
        for a lookup by identifier, which member it found."""
        if not self.enabled or member_id is None:
            return
        ttl = self.max_seconds
        entries: list[tuple[str, Any, float]] = [
            (LAST_PREFIX + call.cache_key(member_id), outcome, ttl)
            for call, outcome in fresh.items()
            if outcome.ok and not outcome.stale
        ]
        if entries and isinstance(member, MemberLookup):
            entries.append((who_key(member), member_id, ttl))
        self.cache.set_many(entries)

    def fill(
        self, member: MemberRef, member_id: int | None, outcomes: Mapping[K, Outcome[Any]]
    ) -> tuple[int | None, dict[K, Outcome[Any]]]:
        """The outcomes with each upstream outage replaced by its last-known figures, when
        they are young enough, and the member id they belong to.

        member_id is None for a lookup by identifier where no call succeeded; the identifier
        map then names the member, but only when every call failed by an outage (a "not
        found" is the answer about this identifier). Unchanged when nothing is replaced.
        """
        unchanged = member_id, dict(outcomes)
        if not self.enabled:
            return unchanged
        failed = [call for call, outcome in outcomes.items() if is_outage(outcome.error)]
        if not failed:
            return unchanged
        known_id = member_id
        if known_id is None:
            if len(failed) < len(outcomes) or not isinstance(member, MemberLookup):
                return unchanged
            found = self.cache.get(who_key(member))
            if not isinstance(found, int) or isinstance(found, bool):
                return unchanged
            known_id = found
        keys = {LAST_PREFIX + call.cache_key(known_id): call for call in failed}
        now = self.clock()
        served = dict(outcomes)
        for key, kept in self.cache.get_many(keys).items():
            call = keys[key]
            if self._servable(kept, now):
                served[call] = replace(kept, stale_because=outcomes[call].error)
        replaced = sum(1 for outcome in served.values() if outcome.stale)
        if not replaced:
            return unchanged
        logger.info("lookup served last-known figures for %d of %d calls", replaced, len(served))
        return known_id, served

    def _servable(self, kept: object, now: datetime) -> bool:
        if not isinstance(kept, Outcome) or not kept.ok or kept.value is None:
            return False
        age = (now - kept.fetched_at).total_seconds()
        return age <= self.max_seconds
