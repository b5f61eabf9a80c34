"""Readiness: does the upstream answer? One cheap call, made in the background.

/readyz never waits on the upstream for longer than READINESS_WAIT_SECONDS: a probe runs on
its own thread, over a client with a short timeout of its own, and the answer is the
newest verdict there is: the fresh one when the probe is quick, else the previous one (or
"checking" before the first ever ends). Probes with short timeouts see a 503, not a hang.

The probe's call is an upstream call like a lookup's: it is counted in the upstream budget
(as nobody's: it never draws on the staff's reserve), and it is not made while the budget
is paused after a 429 or spent; the newest verdict stands meanwhile. With Redis configured
(RATELIMIT_STORAGE_URI, else CACHE_REDIS_URL), every worker of a server shares one probe:
the verdict is kept in Redis under the server's host name for READINESS_CACHE_SECONDS, and
a short lock lets one worker probe while the others wait for its verdict.

Who sees what: anyone gets ready or not; the upstream's error type is for the operators'
addresses (METRICS_ALLOWED) only.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import current_app

from app.capillary import CapillaryClient, CapillaryError, MemberNotFound, RateLimited
from app.clock import Clock
from app.redis_links import RedisLink

logger = logging.getLogger(__name__)

# A customer id no real member is expected to have: the answer (a balance or a typed "not
# found") proves the upstream is up, is the API we think it is, and accepts our credentials.
PROBE_CUSTOMER_ID = 1
# What /readyz names while the very first probe has not ended yet.
CHECKING = "checking"
ANSWERS = "answers"
# What a caller outside METRICS_ALLOWED reads instead of the error type.
FAILS = "fails"
# The verdict before any probe, while the budget holds probes back.
PAUSED = "paused (the upstream asked to slow down)"
SPENT = "not probed (upstream budget spent)"
# How often a worker waiting for another's probe looks for its verdict.
SHARED_POLL_SECONDS = 0.05


class ProbeBudget(Protocol):
    """What the probe needs of the upstream budget (app/lookup/budget/counts.py)."""

    def try_reserve(self, kinds: Iterable[str]) -> bool:
        """Reserve the calls for nobody's share; False when refused (paused or spent)."""

    def after(self, errors: Iterable[CapillaryError | None]) -> None:
        """A 429 among errors pauses every worker."""

    def paused_for(self) -> float:
        """Seconds left of the pause after a 429."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """The last probe's verdict."""

    ready: bool
    upstream: str  # "answers", CHECKING, or the error class that says why not
    checked_at: datetime
    # The configured programs checked against v2/organization/programs: "all known",
    # "not known to the org: Gold Club (2199)", "could not be checked (...)", or None.
    programs: str | None = None

    def as_json(self, now: datetime, *, detail: bool = True) -> dict[str, object]:
        """The /readyz body; without detail, no error type (only answers, checking, fails)."""
        upstream = self.upstream
        if not detail and upstream not in (ANSWERS, CHECKING):
            upstream = ANSWERS if self.ready else FAILS
        body: dict[str, object] = {
            "status": "ready" if self.ready else "not ready",
            "upstream": upstream,
            "checked_at": self.checked_at.isoformat(),
            "age_seconds": max(0, int((now - self.checked_at).total_seconds())),
        }
        if self.programs is not None:
            body["programs"] = self.programs
        return body

    def encode(self) -> str:
        """The verdict as JSON, for the shared store."""
        return json.dumps([self.ready, self.upstream, self.checked_at.isoformat(), self.programs])

    @classmethod
    def decode(cls, raw: str | bytes) -> Readiness:
        """A verdict from encode()."""
        ready, upstream, checked_at, *rest = json.loads(raw)
        programs = rest[0] if rest and rest[0] is not None else None
        when = datetime.fromisoformat(checked_at)
        return cls(bool(ready), str(upstream), when, None if programs is None else str(programs))


class SharedVerdict:
    """One probe per server: the verdict and a probing lock in Redis, keyed by host name.
    Any Redis failure opens a breaker; meanwhile each worker probes on its own."""

    def __init__(self, url: str, prefix: str, host: str | None = None) -> None:
        self._link = RedisLink(
            url,
            logger,
            "Shared readiness verdict unavailable (%s); each worker probes on its own, "
            "retrying Redis in %.0f s",
        )
        base = f"{prefix}{host or socket.gethostname()}:"
        self.verdict_key, self.lock_key = base + "verdict", base + "probing"

    def get(self) -> Readiness | None:
        """The server's fresh verdict, if any."""
        if not self._link.available:
            return None
        try:
            raw = self._link.redis.get(self.verdict_key)
        except self._link.errors as exc:
            self._link.failed(exc)
            return None
        try:
            return Readiness.decode(raw) if raw else None
        except (ValueError, TypeError):
            return None  # not a verdict of ours: probe afresh

    def claim(self, seconds: float) -> str | None:
        """The probing lock for this long (a token), or None when another worker holds it.
        With Redis failing, a token: this worker probes on its own."""
        token = uuid.uuid4().hex
        if not self._link.available:
            return token
        try:
            got = self._link.redis.set(
                self.lock_key, token, nx=True, px=max(1, int(seconds * 1000))
            )
        except self._link.errors as exc:
            self._link.failed(exc)
            return token
        return token if got else None

    def put(self, verdict: Readiness, seconds: float) -> None:
        """Keep the verdict for every worker of this server for this long."""
        if not self._link.available or seconds <= 0:
            return
        try:
            self._link.redis.set(self.verdict_key, verdict.encode(), px=max(1, int(seconds * 1000)))
            self._link.redis.delete(self.lock_key)
        except self._link.errors as exc:
            self._link.failed(exc)

    def held(self) -> bool:
        """Whether some worker holds the probing lock."""
        if not self._link.available:
            return False
        try:
            return bool(self._link.redis.exists(self.lock_key))
        except self._link.errors as exc:
            self._link.failed(exc)
            return False


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
        budget: ProbeBudget | None = None,
        shared: SharedVerdict | None = None,
        probe_timeout: float = 3.0,
        programs: Mapping[int, str] | None = None,
    ) -> None:
        self.client = client
        self.programs = dict(programs or {})
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.wait_seconds = wait_seconds
        self.budget = budget
        self.shared = shared
        # How long a worker's probing lock lasts: the probe's own timeout and a little.
        self.lock_seconds = probe_timeout + 1.0
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
        """The server's shared verdict when fresh; else this worker's own probe, unless the
        budget holds probes back (then the newest verdict stands)."""
        if self.shared is not None:
            verdict = self._shared_verdict(self.shared)
            if verdict is not None:
                return verdict
        verdict = self._held_back() or self._call()
        if self.shared is not None:
            self.shared.put(verdict, self.cache_seconds)
        return verdict

    def _shared_verdict(self, shared: SharedVerdict) -> Readiness | None:
        """Another worker's verdict: fresh in Redis, or awaited while it probes; None when
        this worker is to probe."""
        deadline = time.monotonic() + self.lock_seconds
        while True:
            verdict = shared.get()
            if verdict is not None:
                return verdict
            if shared.claim(self.lock_seconds) is not None:
                return None
            if time.monotonic() >= deadline or not shared.held():
                return None
            time.sleep(SHARED_POLL_SECONDS)

    def _held_back(self) -> Readiness | None:
        """The verdict to keep when the budget refuses the probe's call, else None."""
        if self.budget is None:
            return None
        paused = self.budget.paused_for() > 0
        # The balance probe, and the program list when programs are configured (counted
        # against every API's calls together; a per-API ceiling has no counter for it).
        calls = ["balance", "programs"] if self.programs else ["balance"]
        if not paused and self.budget.try_reserve(calls):
            return None
        previous = self._last
        if previous is not None:
            return previous
        return Readiness(True, PAUSED if paused else SPENT, self.clock.now())

    def _call(self) -> Readiness:
        """Ask the upstream for the probe customer's balance; a 429 pauses the budget."""
        now = self.clock.now()
        error: CapillaryError | None = None
        try:
            self.client.get_balance(PROBE_CUSTOMER_ID)
        except MemberNotFound:
            pass  # the probe's expected answer
        except RateLimited as exc:
            # It answers; the budget now pauses every lookup (and this probe) for a while.
            error = exc
            logger.warning("readiness: upstream answered 429 (too many requests)")
            return Readiness(True, type(exc).__name__, now)
        except CapillaryError as exc:
            # Anything else (refused credentials, a wrong address, an unknown refusal, no
            # answer at all) would fail real lookups the same way.
            logger.warning("readiness: upstream not usable (%r)", exc)
            return Readiness(False, type(exc).__name__, now)
        finally:
            if self.budget is not None and error is not None:
                self.budget.after([error])
        return Readiness(True, ANSWERS, now, self._check_programs())

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
                budget=current_app.extensions.get("upstream_budget"),
                shared=shared_verdict(config),
                probe_timeout=config["READINESS_PROBE_TIMEOUT"],
                programs=config["CAPILLARY_PROGRAMS"],
            ),
        )
    return probe


def shared_verdict(config: Any) -> SharedVerdict | None:
    """The Redis the workers share (the rate limits', else the cache's), or None."""
    url = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if url.startswith("redis+unix://"):
        url = "unix://" + url.removeprefix("redis+unix://")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        url = str(config.get("CACHE_REDIS_URL") or "")
    if not url:
        return None
    return SharedVerdict(url, config.get("READINESS_KEY_PREFIX") or "pointsdesk:readyz:")
