"""The in-memory rate-limit storage under request threads that count at the same moment:
its expiry timer is restarted by one thread, never started twice (see
app/rate_limits.py serialise_memory_expiry)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits.storage import MemoryStorage

from app import rate_limits

THREADS = 8
# How long a new timer takes to start: the window in which another thread can still find the
# old one dead. Long enough that, unserialised, the other threads all get there in it.
START_DELAY_SECONDS = 0.05


@pytest.fixture
def storage() -> MemoryStorage:
    """A memory storage whose own first expiry timer has run and ended."""
    rate_limits.serialise_memory_expiry()
    storage = MemoryStorage()
    storage.timer.join(timeout=5)
    assert not storage.timer.is_alive()
    return storage


@pytest.fixture
def timers_made(monkeypatch, storage) -> Iterator[list[threading.Timer]]:
    """Every threading.Timer made after the storage was set up (limits makes its expiry
    timers so).

    Each starts slowly and then waits a minute, so the one started first is still alive when
    the other threads look; all are cancelled at the end."""
    made: list[threading.Timer] = []

    class SlowStartTimer(threading.Timer):
        def __init__(self, interval, function, args=None, kwargs=None):
            super().__init__(60.0, function, args, kwargs)
            made.append(self)

        def start(self) -> None:
            time.sleep(START_DELAY_SECONDS)
            super().start()

    monkeypatch.setattr(threading, "Timer", SlowStartTimer)
    yield made
    for timer in made:
        timer.cancel()
    for timer in made:
        if timer.ident is not None:
            timer.join(timeout=5)


def _count_at_once(storage: MemoryStorage) -> list[int]:
    start = threading.Barrier(THREADS)

    def hit(_: int) -> int:
        start.wait()
        return storage.incr("agent-42/lookup", 60)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(hit, range(THREADS)))


def test_threads_counting_at_once_restart_the_expiry_timer_once(storage, timers_made):
    counts = _count_at_once(storage)

    assert len(timers_made) == 1
    assert storage.timer is timers_made[0]
    assert storage.timer.is_alive()
    assert len(counts) == THREADS and all(1 <= count <= THREADS for count in counts)


def test_the_app_serialises_the_expiry_timer_of_every_memory_storage(app):
    method = MemoryStorage.__dict__[rate_limits._SCHEDULE_EXPIRY]
    assert getattr(method, "serialised", False) is True
    rate_limits.serialise_memory_expiry()  # again: still one wrapper, not one inside another
    assert MemoryStorage.__dict__[rate_limits._SCHEDULE_EXPIRY] is method
