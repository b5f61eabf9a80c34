"""The sandbox's mutable state: runtime settings, issued OAuth tokens and the request log."""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from app.clock import Clock, SystemClock, date_in
from app.sandbox.data import CLUSTER_TIMEZONE, Member
from app.sandbox.faults import check_fault, check_fault_on
from app.sandbox.seed import build_members

# Credentials are fixed so a developer can use them with curl against `flask sandbox run`;
# the sandbox only ever listens on a loopback port by default and holds no real data.
DEFAULT_USERNAME = "pointsdesk.till"
DEFAULT_PASSWORD = "sandbox-pass-123"
DEFAULT_OAUTH_KEY = "pointsdesk-sandbox-key"
DEFAULT_OAUTH_SECRET = "pointsdesk-sandbox-secret"
# How long the "slow" fault holds a request: well past any sane client read timeout.
DEFAULT_SLOW_SECONDS = 30.0
# The request log keeps only the newest requests: `make run` and the benchmark run for hours,
# and the entries hold credentials and identifier queries. Tests look at a few dozen at most.
REQUEST_LOG_MAX = 2000


@dataclass(frozen=True, slots=True)
class Settings:
    """The knobs tests turn at runtime; replaced as a whole so readers see a consistent set."""

    latency: float = 0.0
    fault: str | None = None
    fault_on: str | None = None
    oauth_ttl: int = 300
    slow_seconds: float = DEFAULT_SLOW_SECONDS


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the sandbox received, as tests see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    # "balance", "schedule", "oauth", "customer", "expiry", "ledger" or None (unknown route)
    kind: str | None
    at: float  # time.monotonic() when received


class SandboxState:
    """Everything the sandbox's HTTP app reads and the controlling code changes."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        today: date | None = None,
        clock: Clock | None = None,
        zone: ZoneInfo | None = None,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        oauth_key: str = DEFAULT_OAUTH_KEY,
        oauth_secret: str = DEFAULT_OAUTH_SECRET,
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings or Settings()
        check_fault(self._settings.fault)
        check_fault_on(self._settings.fault_on)
        # Relative member dates count from the day the sandbox starts, on the app's clock and
        # in the app's zone for "today", so both agree about which conversions are ahead.
        self.clock = clock or SystemClock()
        self.today = today or date_in(self.clock, zone or ZoneInfo(CLUSTER_TIMEZONE))
        self.members: dict[int, Member] = build_members(self.today)
        self.username = username
        self.password = password
        self.oauth_key = oauth_key
        self.oauth_secret = oauth_secret
        # Set on stop so that latency and "slow" sleeps end at once.
        self.stopping = threading.Event()
        self._tokens: dict[str, float] = {}
        self._log: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_MAX)

    @property
    def settings(self) -> Settings:
        """The current settings (an immutable snapshot)."""
        with self._lock:
            return self._settings

    def update(self, **changes: object) -> Settings:
        """Replace some settings atomically; validates fault names."""
        with self._lock:
            new = dataclasses.replace(self._settings, **changes)
            check_fault(new.fault)
            check_fault_on(new.fault_on)
            if new.latency < 0 or new.oauth_ttl < 0 or new.slow_seconds < 0:
                raise ValueError("latency, oauth_ttl and slow_seconds must not be negative")
            self._settings = new
            return new

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the server is stopping."""
        if seconds > 0:
            self.stopping.wait(seconds)

    def issue_token(self) -> tuple[str, int]:
        """Mint an OAuth token valid for the current ttl; returns (token, ttl)."""
        ttl = self.settings.oauth_ttl
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            # Drop expired tokens so a long-running sandbox does not grow without bound.
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + ttl
        return token, ttl

    def token_valid(self, token: str) -> bool:
        """Whether the token was issued here and has not expired."""
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > time.monotonic()

    def record(self, entry: LoggedRequest) -> None:
        """Append to the request log, dropping the oldest entry once it is full."""
        with self._lock:
            self._log.append(entry)

    def request_log(self) -> list[LoggedRequest]:
        """A copy of the request log (the newest REQUEST_LOG_MAX requests)."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget logged requests."""
        with self._lock:
            self._log.clear()
