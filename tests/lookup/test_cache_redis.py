"""The shared cache against a real Redis on 127.0.0.1:6379.

Skips when no Redis answers there (fails instead when CI=true). Each run writes under its own
key prefix and deletes it afterwards.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.lookup.fetching import codec
from app.lookup.fetching.cache import RedisCache
from app.lookup.fetching.outcome import Outcome
from app.sandbox import data as demo
from tests.conftest import normalize_spaces, soup
from tests.support.cache_samples import BALANCE, ERRORS, SCHEDULE
from tests.support.redis_fixtures import REDIS_HOST, REDIS_PORT, REDIS_URL

pytestmark = pytest.mark.redis


def _cache(prefix: str, url: str = REDIS_URL, **kwargs) -> RedisCache:
    return RedisCache(
        url, encode=codec.encode_outcome, decode=codec.decode_outcome, prefix=prefix, **kwargs
    )


FETCHED = datetime(2026, 11, 21, 10, 15, 30, tzinfo=UTC)


def test_every_outcome_type_round_trips_through_redis(redis_prefix, redis_server):
    cache = _cache(redis_prefix)
    outcomes = {
        "balance": Outcome(BALANCE, None, FETCHED),
        "schedule": Outcome(SCHEDULE, None, FETCHED),
        **{type(e).__name__: Outcome(None, e, FETCHED) for e in ERRORS},
    }
    cache.set_many((key, outcome, 30) for key, outcome in outcomes.items())
    back = cache.get_many([*outcomes, "absent"])
    assert set(back) == set(outcomes)
    assert back["balance"].value == BALANCE
    assert back["schedule"].value == SCHEDULE
    assert [e.redeemable_from.tzname() for e in back["schedule"].value.entries] == [
        e.redeemable_from.tzname() for e in SCHEDULE.entries
    ]
    for error in ERRORS:
        got = back[type(error).__name__].error
        assert type(got) is type(error) and got.code == error.code
    # Stored as JSON under the prefix with a TTL, not as a pickle.
    raw = redis_server.get(redis_prefix + "balance")
    assert raw.startswith(b'{"v":1')
    assert 0 < redis_server.pttl(redis_prefix + "balance") <= 30_000
    cache.close()


def test_entries_expire_after_their_ttl(redis_prefix, redis_server):
    cache = _cache(redis_prefix)
    cache.set("short", Outcome(BALANCE, None, FETCHED), 0.2)
    cache.set("long", Outcome(BALANCE, None, FETCHED), 30)
    cache.set("never", Outcome(BALANCE, None, FETCHED), 0)
    assert set(cache.get_many(["short", "long", "never"])) == {"short", "long"}
    deadline = time.monotonic() + 3
    while cache.get("short") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get("short") is None
    assert cache.get("long") is not None
    cache.close()


def test_unreadable_entries_are_misses(redis_prefix, redis_server):
    redis_server.set(redis_prefix + "bad", b"\x80\x04pickle?")
    assert _cache(redis_prefix).get("bad") is None


def _with_points(value: object, outcome: Outcome) -> bytes:
    """outcome as the codec writes it, with the total points replaced by value."""
    document = json.loads(codec.encode_outcome(outcome))
    document["value"]["points"][0] = value
    return json.dumps(document).encode()


def test_damaged_points_are_misses_with_one_warning_and_no_key(redis_prefix, redis_server, caplog):
    good = Outcome(BALANCE, None, FETCHED)
    keys = [f"balance:{BALANCE.entity_id}:{n}:0::" for n in range(4)]
    redis_server.set(redis_prefix + keys[0], codec.encode_outcome(good))
    redis_server.set(redis_prefix + keys[1], _with_points("x", good))  # decimal.InvalidOperation
    redis_server.set(redis_prefix + keys[2], _with_points("NaN", good))
    redis_server.set(redis_prefix + keys[3], _with_points("Infinity", good))
    cache = _cache(redis_prefix)
    with caplog.at_level(logging.WARNING, logger="app.lookup.fetching.cache"):
        found = cache.get_many(keys)
    assert set(found) == {keys[0]}
    assert found[keys[0]].value == BALANCE
    assert cache.available  # a damaged entry is not a Redis failure
    [warning] = [r for r in caplog.records if r.name == "app.lookup.fetching.cache"]
    assert warning.levelno == logging.WARNING
    assert str(BALANCE.entity_id) not in warning.getMessage()
    assert redis_prefix not in warning.getMessage()
    cache.close()


def test_a_decoder_raising_an_arithmetic_error_is_a_miss(redis_prefix, redis_server):
    redis_server.set(redis_prefix + "odd", b"x")

    def decode(raw: bytes) -> Decimal:
        return Decimal(raw.decode())  # decimal.InvalidOperation, not a ValueError

    cache = RedisCache(REDIS_URL, encode=codec.encode_outcome, decode=decode, prefix=redis_prefix)
    assert cache.get("odd") is None
    cache.close()


def tile_figures(page) -> list[str]:
    return [normalize_spaces(t.get_text()) for t in page.select(".tile-value")]


def test_a_colleagues_server_sees_the_lookup_with_no_upstream_call(
    make_client, upstream, redis_prefix
):
    mine = make_client(CACHE_REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=redis_prefix)
    theirs = make_client(CACHE_REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=redis_prefix)
    link = f"/members/{demo.MEMBER_MULTI_PROGRAM}?program=all"
    first = mine.get(link)
    assert first.status_code == 200
    assert len(upstream.request_log()) == 7  # with name and tier, and the expiry schedule
    upstream.clear_log()
    second = theirs.get(link)
    assert second.status_code == 200
    assert upstream.request_log() == []
    assert second.headers["X-Upstream-Calls"] == "0"
    assert tile_figures(soup(second)) == tile_figures(soup(first))
    assert soup(second).select_one("#timeline-table").get_text() == (
        soup(first).select_one("#timeline-table").get_text()
    )


def test_a_damaged_shared_entry_is_refetched_not_a_500(
    make_client, upstream, redis_prefix, redis_server
):
    client = make_client(CACHE_REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=redis_prefix)
    link = f"/members/{demo.MEMBER_MULTI_PROGRAM}?program=all"
    first = client.get(link)
    assert first.status_code == 200
    damaged = list(redis_server.scan_iter(match=redis_prefix + "balance:*"))
    assert damaged
    for key in damaged:
        document = json.loads(redis_server.get(key))
        document["value"]["points"][0] = "x"
        redis_server.set(key, json.dumps(document))
    upstream.clear_log()
    again = client.get(link)
    assert again.status_code == 200
    assert tile_figures(soup(again)) == tile_figures(soup(first))
    assert len([e for e in upstream.request_log() if e.kind == "balance"]) == len(damaged)


class TcpProxy:
    """Forwards a loopback port to Redis until stopped: Redis 'going down' for one app."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        try:
            # Wakes the accept() blocked in the other thread; close() alone would not.
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def test_redis_going_down_mid_run_leaves_lookups_working(
    make_client, upstream, redis_prefix, redis_server, caplog
):
    proxy = TcpProxy((REDIS_HOST, REDIS_PORT))
    try:
        client = make_client(
            CACHE_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0", CACHE_KEY_PREFIX=redis_prefix
        )
        member = demo.MEMBER_MULTI_PROGRAM
        before = client.get(f"/members/{member}?program=all")
        assert before.status_code == 200
        assert redis_server.keys(redis_prefix + "*")  # it really went through Redis
        proxy.stop()
        upstream.clear_log()
        with caplog.at_level(logging.WARNING, logger="app.lookup.fetching.cache"):
            pages = [client.get(f"/members/{member}?program=all") for _ in range(2)]
            refreshed = client.get(f"/members/{member}?program=2199")
    finally:
        proxy.stop()
    for page in [*pages, refreshed]:
        assert page.status_code == 200
        text = normalize_spaces(soup(page).get_text()).lower()
        for alarming in ("redis", "cache", "went wrong", "unavailable"):
            assert alarming not in text
        assert soup(page).select_one("#failures") is None
    assert tile_figures(soup(pages[0])) == tile_figures(soup(before))
    assert tile_figures(soup(pages[1])) == tile_figures(soup(before))
    # Uncached: each page went upstream again, and Redis was not retried call after call.
    assert len(upstream.request_log()) > 5
    warnings = [r for r in caplog.records if "Shared cache unavailable" in r.getMessage()]
    assert len(warnings) == 1
