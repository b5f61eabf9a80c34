"""Readiness: does the upstream answer? One cheap call, its result reused for a few seconds."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from app.capillary import CapillaryClient, CapillaryError, MemberNotFound, get_client

logger = logging.getLogger(__name__)

# A customer id no real member is expected to have: the answer (a balance or a typed "not
# found") proves the upstream is up, is the API we think it is, and accepts our credentials.
PROBE_CUSTOMER_ID = 1


@dataclass(frozen=True, slots=True)
class Readiness:
    """The last probe's verdict."""

    ready: bool
    upstream: str  # "answers", or the error class that says why not
    checked_at: datetime

    def as_json(self, now: datetime) -> dict[str, object]:
        """The /readyz body."""
        return {
            "status": "ready" if self.ready else "not ready",
            "upstream": self.upstream,
            "checked_at": self.checked_at.isoformat(),
            "age_seconds": max(0, int((now - self.checked_at).total_seconds())),
        }


class ReadinessProbe:
    """Asks the upstream at most once per cache period; concurrent callers share one probe."""

    def __init__(self, client: CapillaryClient, cache_seconds: float) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._last: Readiness | None = None
        self._last_at = 0.0

    def check(self) -> Readiness:
        """The cached verdict while fresh, else a new probe."""
        last = self._last
        if last is not None and time.monotonic() - self._last_at < self.cache_seconds:
            return last
        if not self._lock.acquire(blocking=last is None):
            return last  # another thread is probing: answer at once with the previous verdict
        try:
            verdict = self._probe()
            self._last, self._last_at = verdict, time.monotonic()
            return verdict
        finally:
            self._lock.release()

    def _probe(self) -> Readiness:
        now = datetime.now(UTC)
        try:
            self.client.get_balance(PROBE_CUSTOMER_ID)
        except MemberNotFound:
            return Readiness(True, "answers", now)  # the probe's expected answer
        except CapillaryError as exc:
            # Anything else (refused credentials, a wrong address, an unknown refusal, no
            # answer at all) would fail real lookups the same way.
            logger.warning("readiness: upstream not usable (%r)", exc)
            return Readiness(False, type(exc).__name__, now)
        return Readiness(True, "answers", now)


def get_probe() -> ReadinessProbe:
    """The app's probe, made on first use over the app's client (get_client())."""
    probe = current_app.extensions.get("readiness")
    if probe is None:
        probe = current_app.extensions.setdefault(
            "readiness",
            ReadinessProbe(get_client(), current_app.config["READINESS_CACHE_SECONDS"]),
        )
    return probe
