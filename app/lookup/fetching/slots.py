"""The lookup bulkhead's slots: lookups beyond this many at once in one process are turned
away at the door, so a hung upstream can hold at most this many request threads and
/healthz stays fast."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app


class LookupSlots:
    """A fixed number of lookups that may run at once; claiming never waits."""

    def __init__(self, max_concurrent: int) -> None:
        self.max_concurrent = max_concurrent
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Claim one of the lookup slots without waiting; yields whether one was free."""
        granted = self._slots.acquire(blocking=False)
        try:
            yield granted
        finally:
            if granted:
                self._slots.release()


def get_slots() -> LookupSlots:
    """The app's lookup slots."""
    return current_app.extensions["lookup_slots"]


def init_app(app: Flask) -> None:
    """Give the app its lookup slots (LOOKUP_MAX_CONCURRENT)."""
    app.extensions["lookup_slots"] = LookupSlots(app.config["LOOKUP_MAX_CONCURRENT"])
