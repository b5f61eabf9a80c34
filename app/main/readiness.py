"""Readiness: does the upstream answer? One cheap call, made in the background.

/readyz never waits on the upstream for longer than READINESS_WAIT_SECONDS: a probe runs on
its own thread, over a client with a short timeout of its own, and the answer is the
newest verdict there is: the fresh one when the probe is quick, else the previous one (or
"checking" before the first ever ends). Probes with short timeouts see a 503, not a hang.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from app.capillary import CapillaryClient, CapillaryError, MemberNotFound
from app.clock import Clock

logger = logging.getLogger(__name__)

# A customer id no real member is expected to have: the answer (a balance or a typed "not
# found") proves the upstream is up, is the API we think it is, and accepts our credentials.
PROBE_CUSTOMER_ID = 1
# What /readyz names while the very first probe has not ended yet.
CHECKING = "checking"


@dataclass(frozen=True, slots=True)
class Readiness:
    """The last probe's verdict."""

    ready: bool
    upstream: str  # "answers", CHECKING, or the error class that says why not
    checked_at: datetime
    # The configured programs checked against v2/organization/programs: "all known",
    # "not known to the org: Gold Club (2199)", "could not be checked (...)", or None.
    programs: str | None = None

    def as_json(self, now: datetime) -> dict[str, object]:
        """The /readyz body."""
        body: dict[str, object] = {
            "status": "ready" if self.ready else "not ready",
            "upstream": self.upstream,
            "checked_at": self.checked_at.isoformat(),
            "age_seconds": max(0, int((now - self.checked_at).total_seconds())),
        }
        if self.programs is not None:
            body["programs"] = self.programs
        return body


class ReadinessProbe:
    """Asks the upstream at most once per cache period, on a background thread; callers
    wait at most wait_seconds for it and otherwise get the newest verdict there is."""

    def __init__(
        self,
        client: CapillaryClient,
        cache_seconds: float,
        clock: Clock,
        *,
        wait_seconds: float = 1.0,
        programs: Mapping[int, str] | None = None,
    ) -> None:
        self.client = client
        self.programs = dict(programs or {})
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._last: Readiness | None = None
        self._last_at = 0.0
        self._running: threading.Event | None = None  # set when the running probe ends

    def check(self) -> Readiness:
        """The cached verdict while fresh; else start a probe and wait a little for it."""
        with self._lock:
            last = self._last
            if last is not None and time.monotonic() - self._last_at < self.cache_seconds:
                return last
            ended = self._running
            if ended is None:
                ended = self._running = threading.Event()
                threading.Thread(
                    target=self._run, args=(ended,), name="readiness-probe", daemon=True
                ).start()
        ended.wait(self.wait_seconds)
        return self._last or Readiness(False, CHECKING, self.clock.now())

    def wait_until_idle(self, timeout: float) -> bool:
        """Block until no probe is running (for tests and shutdown); False on timeout."""
        with self._lock:
            running = self._running
        return running is None or running.wait(timeout)

    def _run(self, ended: threading.Event) -> None:
        try:
            verdict = self._probe()
            with self._lock:
                self._last, self._last_at = verdict, time.monotonic()
        finally:
            with self._lock:
                self._running = None
            ended.set()

    def _probe(self) -> Readiness:
        now = self.clock.now()
        try:
            self.client.get_balance(PROBE_CUSTOMER_ID)
        except MemberNotFound:
            pass  # the probe's expected answer
        except CapillaryError as exc:
            # Anything else (refused credentials, a wrong address, an unknown refusal, no
            # answer at all) would fail real lookups the same way.
            logger.warning("readiness: upstream not usable (%r)", exc)
            return Readiness(False, type(exc).__name__, now)
        return Readiness(True, "answers", now, self._check_programs())

    def _check_programs(self) -> str | None:
        """The configured programs the org does not have, by name (capillary-api.md 7.3).

        Said, not failed on: the balances of the other programs still answer, and a server
        taken out of service for one wrong program id would show staff nothing at all.
        """
        if not self.programs:
            return None
        try:
            known = {program.program_id for program in self.client.get_programs()}
        except CapillaryError as exc:
            return f"could not be checked ({type(exc).__name__})"
        unknown = [f"{name} ({pid})" for pid, name in self.programs.items() if pid not in known]
        if not unknown:
            return "all known"
        logger.warning("readiness: configured programs the org does not have: %s", unknown)
        return "not known to the org: " + ", ".join(unknown)


def probe_client(config: Any) -> CapillaryClient:
    """The app's upstream settings with the probe's short timeout and no retries: a probe
    that waits longer than a load balancer's check would be no use to it."""
    timeout = float(config["READINESS_PROBE_TIMEOUT"])
    return CapillaryClient.from_config(
        {
            **config,
            "CAPILLARY_CONNECT_TIMEOUT": timeout,
            "CAPILLARY_READ_TIMEOUT": timeout,
            "CAPILLARY_CALL_DEADLINE": timeout,
            "CAPILLARY_RETRIES": 0,
        }
    )


def get_probe() -> ReadinessProbe:
    """The app's probe, made on first use over a short-timeout copy of the app's client."""
    probe = current_app.extensions.get("readiness")
    if probe is None:
        config = current_app.config
        probe = current_app.extensions.setdefault(
            "readiness",
            ReadinessProbe(
                probe_client(config),
                config["READINESS_CACHE_SECONDS"],
                current_app.extensions["clock"],
                wait_seconds=config["READINESS_WAIT_SECONDS"],
                programs=config["CAPILLARY_PROGRAMS"],
            ),
        )
    return probe
