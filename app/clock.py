"""The one clock the app and its embedded sandbox read the time from.

Business time (audit stamps, "as of", what "today" is, which conversions are next) comes from
``app.extensions["clock"]``; tests give the app a FrozenClock. Durations (timeouts, deadlines,
cache lifetimes) keep using ``time.monotonic()``: they measure how long, not what day.

"Today" has one definition: the date in DISPLAY_TIMEZONE when one is set, else in
CAPILLARY_CLUSTER_TIMEZONE, else in UTC. Pages, form checks and the sandbox all use it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import Flask, current_app


class Clock(Protocol):
    """Anything that can say what time it is (timezone-aware)."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current moment in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until told to move: for tests and replays."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The moment the clock was set to."""
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Jump to another moment."""
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        with self._lock:
            self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward by delta."""
        with self._lock:
            self._at += delta

    def __repr__(self) -> str:
        return f"FrozenClock({self._at.isoformat()})"


def business_zone(config: Mapping[str, Any]) -> ZoneInfo:
    """The zone whose date is "today": the display zone, else the cluster's, else UTC."""
    name = config.get("DISPLAY_TIMEZONE") or config.get("CAPILLARY_CLUSTER_TIMEZONE") or "UTC"
    return ZoneInfo(name)


def date_in(clock: Clock, zone: ZoneInfo) -> date:
    """The clock's date in zone."""
    return clock.now().astimezone(zone).date()


def get_clock() -> Clock:
    """The current app's clock."""
    return current_app.extensions["clock"]


def now() -> datetime:
    """The current app's time, in UTC."""
    return get_clock().now().astimezone(UTC)


def today() -> date:
    """The current app's "today" (see the module docstring)."""
    return date_in(get_clock(), business_zone(current_app.config))


def init_app(app: Flask, clock: Clock | None = None) -> Clock:
    """Give the app its clock (the system clock unless one is injected)."""
    chosen = clock or SystemClock()
    app.extensions["clock"] = chosen
    return chosen
