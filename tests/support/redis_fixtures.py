"""Redis fixtures (redis_server, redis_prefix), registered for every test by conftest.

Need Redis at 127.0.0.1:6379. Each test writes under a key prefix of its own, deleted
afterwards. Without a server the tests that use them skip, except in CI (CI=true), where
that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"

HOW_TO_RUN = (
    f"No Redis answers on {REDIS_HOST}:{REDIS_PORT}. Start one (e.g. `redis-server "
    "--daemonize yes` or `service redis-server start`), then run "
    "`.venv/bin/python -m pytest -m redis`."
)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis.Redis]:
    """A client of the local Redis, or skip (fail when CI=true) when none answers."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        client.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Redis is missing: {HOW_TO_RUN}")
        pytest.skip(HOW_TO_RUN)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_server: redis.Redis) -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    value = f"pointsdesk-test:{uuid.uuid4().hex}:"
    yield value
    keys = list(redis_server.scan_iter(match=value + "*", count=500))
    if keys:
        redis_server.delete(*keys)
