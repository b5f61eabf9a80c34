"""Redis down or hung under the rate limits and the shared cache: lookups go on (counted in
memory, uncached), a warning or two in the log, never a 500 or a traceback."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from app.extensions import limiter
from app.redis_links import REDIS_BACKOFF_SECONDS
from app.sandbox import data as demo
from tests.conftest import AGENT, normalize_spaces, sign_in, soup
from tests.support.fault_servers import OwnRedis, hung_server

pytestmark = pytest.mark.redis

MOBILE = "919800000001"


@pytest.fixture(autouse=True)
def _limiter_state_is_this_tests() -> Iterator[None]:
    # The limiter object is one per process; its "storage is down" flag must not outlive
    # the test that took its storage down.
    yield
    limiter._storage_dead = False


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A Redis of this test's own, killed at the end if the test did not kill it first."""
    server = OwnRedis()
    yield server
    server.kill()


def _look_up(client):
    return client.post(
        "/lookup", data={"identifier_type": "mobile", "identifier": MOBILE, "program": "all"}
    )


def _shown_balance(client, location) -> str:
    page = client.get(location)
    assert page.status_code == 200
    return normalize_spaces(soup(page).select_one("h1").get_text())


# The loggers of what Redis serves. Other warnings may land in caplog from threads of
# earlier tests' apps (a background readiness probe, say) and say nothing about Redis.
REDIS_USERS = ("flask-limiter", "app.lookup.fetching.cache", "app.rate_limits")


def _problems(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(REDIS_USERS)
    ]


def test_lookups_go_on_when_the_redis_behind_limits_and_cache_is_killed(
    make_client, upstream, own_redis, caplog
):
    client = make_client(RATELIMIT_STORAGE_URI=own_redis.url, CACHE_REDIS_URL=own_redis.url)
    first = _look_up(client)
    assert first.status_code == 302
    _shown_balance(client, first.location)

    own_redis.kill()
    caplog.set_level(logging.INFO)
    caplog.clear()
    started = time.monotonic()
    for _ in range(10):
        response = _look_up(client)
        assert response.status_code == 302
        _shown_balance(client, response.location)
    # The cache says so once per back-off window; count the windows the loop spanned rather
    # than race 20 requests against one window on a busy machine.
    windows = int((time.monotonic() - started) / REDIS_BACKOFF_SECONDS) + 1

    problems = _problems(caplog)
    messages = [r.getMessage() for r in problems]
    limiter = [m for m in messages if "Rate limit storage unreachable" in m]
    cache = [m for m in messages if m.startswith("Shared cache unavailable")]
    # One warning from the rate limiter, one per window from the cache: not one per request.
    assert len(limiter) == 1, messages
    assert 1 <= len(cache) <= windows < 20, messages
    assert len(problems) == len(limiter) + len(cache), messages
    assert not [r for r in problems if r.exc_info or "\n" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_rate_limits_still_count_while_redis_is_down(make_client, upstream, own_redis):
    client = make_client(RATELIMIT_STORAGE_URI=own_redis.url, LOOKUP_RATE_LIMIT="3 per minute")
    own_redis.kill()
    assert [_look_up(client).status_code for _ in range(4)] == [302, 302, 302, 429]


def test_lookups_go_on_when_redis_accepts_and_never_answers(make_client, upstream, caplog):
    with hung_server() as hung:
        url = f"redis://127.0.0.1:{hung.port}/0"
        client = make_client(RATELIMIT_STORAGE_URI=url, CACHE_REDIS_URL=url)
        caplog.set_level(logging.INFO)
        statuses: list[int] = []

        def three_lookups() -> None:
            for _ in range(3):
                response = _look_up(client)
                statuses.append(response.status_code)
                statuses.append(client.get(response.location).status_code)

        worker = threading.Thread(target=three_lookups, daemon=True)
        worker.start()
        # A safety net, not a timing claim: a Redis client with no timeout would wait on
        # this server for ever, and the test should fail rather than hang.
        worker.join(timeout=60)
        assert not worker.is_alive(), "the lookups were still waiting on the hung Redis"
    assert statuses == [302, 200] * 3
    problems = _problems(caplog)
    assert len(problems) <= 2, [r.getMessage() for r in problems]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


STALLED_REQUESTS = 16


def test_no_500_when_requests_fail_on_a_stalled_redis_at_once(
    make_app, upstream, own_redis, caplog
):
    # The red team's run: Redis stalls (here its process is stopped, as `DEBUG SLEEP 3`
    # would hold it) while 16 requests in one process are waiting on it. The limiter's
    # fallback to memory took the first; each of the others used to be a 500.
    app = make_app(RATELIMIT_STORAGE_URI=own_redis.url)
    member = demo.DEMO_MEMBERS_BY_ID[demo.MEMBER_MULTI_PROGRAM].id
    clients = [sign_in(app.test_client(), AGENT) for _ in range(STALLED_REQUESTS)]
    assert clients[0].get(f"/members/{member}").status_code == 200  # counted in Redis
    caplog.set_level(logging.INFO)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(STALLED_REQUESTS)

    def page(client) -> None:
        start.wait(timeout=30)
        try:
            status = client.get(f"/members/{member}").status_code
        except Exception:  # noqa: BLE001 (the test client re-raises what would be a 500)
            status = 500
        with lock:
            statuses.append(status)

    workers = [threading.Thread(target=page, args=(c,), daemon=True) for c in clients]
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert sorted(statuses) == [200] * STALLED_REQUESTS
    # Said in a line or two, without a traceback.
    problems = _problems(caplog)
    assert problems, "the stall went unnoticed"
    assert not [r for r in problems if r.exc_info or "\n" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
