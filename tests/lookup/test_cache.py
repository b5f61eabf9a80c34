"""Cache backends without a server: the JSON codec, MemoryCache, and RedisCache when Redis is
unreachable (the circuit breaker)."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime

import pytest

from app.explanations import explain
from app.lookup.fetching import codec
from app.lookup.fetching.cache import MemoryCache, RedisCache
from app.lookup.fetching.outcome import Outcome
from app.lookup.fetching.service import build_cache
from tests.support.cache_samples import BALANCE, ERRORS, SCHEDULE

FETCHED = datetime(2026, 11, 21, 10, 15, 30, 123456, tzinfo=UTC)


def _same_time(a: datetime, b: datetime) -> None:
    assert a == b
    assert a.utcoffset() == b.utcoffset()
    assert a.tzname() == b.tzname()


@pytest.mark.parametrize("value", [BALANCE, SCHEDULE], ids=["balance", "schedule"])
def test_values_round_trip_exactly(value):
    back = codec.decode_outcome(codec.encode_outcome(Outcome(value, None, FETCHED)))
    assert back.value == value
    assert back.error is None
    _same_time(back.fetched_at, FETCHED)


def test_decimals_keep_their_exact_digits_and_times_their_zone_names():
    back = codec.decode_outcome(codec.encode_outcome(Outcome(SCHEDULE, None, FETCHED))).value
    assert [str(e.points) for e in back.entries] == ["100.25", "1E+3", "7"]
    for before, after in zip(SCHEDULE.entries, back.entries, strict=True):
        _same_time(after.redeemable_from, before.redeemable_from)
    assert back.entries[0].redeemable_from.tzname() == "IST"
    balance = codec.decode_outcome(codec.encode_outcome(Outcome(BALANCE, None, FETCHED))).value
    assert str(balance.total_points) == "8890.500"
    assert str(balance.external_trigger_points) == "-0"


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_round_trip_as_their_own_class(error):
    back = codec.decode_outcome(codec.encode_outcome(Outcome(None, error, FETCHED)))
    assert type(back.error) is type(error)
    assert (back.error.message, back.error.code, back.error.status, back.error.request_id) == (
        error.message,
        error.code,
        error.status,
        error.request_id,
    )
    assert explain(back.error) == explain(error)
    assert back.value is None


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"v": 99}',
        b'{"v": 1, "at": ["2026-01-01T00:00:00", null], "value": null, "error": null}',
        b'{"v": 1, "at": ["2026-01-01T00:00:00+00:00", null], "value": null,'
        b' "error": {"class": "SystemExit", "message": "x", "code": null, "status": null,'
        b' "request_id": null}}',
        b'{"v": 1, "at": ["2026-01-01T00:00:00+00:00", null], "value": {"type": "os"},'
        b' "error": null}',
    ],
    ids=["garbage", "list", "version", "naive-time", "foreign-class", "foreign-type"],
)
def test_anything_else_is_refused(raw):
    with pytest.raises(codec.CodecError):
        codec.decode_outcome(raw)


def test_memory_cache_get_many_leaves_out_missing_and_expired(monkeypatch):
    cache = MemoryCache()
    cache.set_many([("a", 1, 30), ("b", 2, 0.01), ("c", 3, 0)])
    time.sleep(0.02)
    assert cache.get_many(["a", "b", "c", "d"]) == {"a": 1}


def test_build_cache_is_in_process_without_a_redis_url():
    assert isinstance(build_cache({"CACHE_REDIS_URL": None}), MemoryCache)
    redis_cache = build_cache({"CACHE_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert isinstance(redis_cache, RedisCache)
    redis_cache.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_redis_misses_quietly_and_backs_off(caplog):
    cache = RedisCache(
        f"redis://127.0.0.1:{_closed_port()}/0",
        encode=codec.encode_outcome,
        decode=codec.decode_outcome,
        backoff_seconds=60,
    )
    outcome = Outcome(BALANCE, None, FETCHED)
    with caplog.at_level(logging.WARNING, logger="app.lookup.fetching.cache"):
        cache.set("balance:565039505:2199:0::", outcome, 30)
        assert not cache.available  # the breaker opened
        assert cache.get("balance:565039505:2199:0::") is None
        assert cache.get_many(["a", "b"]) == {}
        cache.set("x", outcome, 30)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # one warning, not one per call
    assert "565039505" not in warnings[0].getMessage()
    assert not cache.ping()
    cache.close()


def _damaged(value, mutate) -> bytes:
    """A real encoding of value, then changed by mutate(document) as a broken writer might."""
    document = json.loads(codec.encode_outcome(Outcome(value, None, FETCHED)))
    mutate(document["value"])
    return json.dumps(document).encode()


def _set_points(index: int, text: object):
    def mutate(item):
        item["points"][index] = text

    return mutate


def _set_entry_points(text: object):
    def mutate(item):
        item["entries"][0][0] = text

    return mutate


def _set_trigger_points(text: object):
    def mutate(item):
        item["triggers"][0][0] = text

    return mutate


@pytest.mark.parametrize(
    "raw",
    [
        _damaged(BALANCE, _set_points(0, "x")),
        _damaged(BALANCE, _set_points(1, "")),
        _damaged(BALANCE, _set_points(2, "NaN")),
        _damaged(BALANCE, _set_points(3, "-Infinity")),
        _damaged(BALANCE, _set_points(4, "sNaN")),
        _damaged(BALANCE, _set_points(0, float("inf"))),  # JSON's non-standard Infinity
        _damaged(BALANCE, _set_points(0, 12.5)),  # a float, not the exact string
        _damaged(SCHEDULE, _set_entry_points("1,5")),
        _damaged(SCHEDULE, _set_entry_points("Infinity")),
        _damaged(SCHEDULE, _set_trigger_points("nan")),
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "balance-not-a-number",
        "balance-empty",
        "balance-nan",
        "balance-minus-infinity",
        "balance-signalling-nan",
        "balance-json-infinity",
        "balance-float",
        "schedule-comma",
        "schedule-infinity",
        "trigger-nan",
        "deeply-nested",
    ],
)
def test_damaged_points_are_refused_not_raised(raw):
    with pytest.raises(codec.CodecError):
        codec.decode_outcome(raw)
