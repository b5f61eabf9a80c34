"""/readyz and the upstream budget: the probe's call is counted, one probe serves every worker
of a server (through Redis), no probe goes out while a 429 pause holds, and anonymous
callers learn ready or not, never the upstream's error type.

The upstream is the fake Capillary: its request log (fake.seen) is what proves which calls
went out. Two apps in this process stand for two workers of one server (one host name).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask

from app.extensions import limiter
from app.main.readiness import get_probe
from bench import harness
from tests.conftest import AGENT, sandbox_config, sign_in
from tests.support.fake_upstream import (
    FAST,
    MEMBER,
    PASSWORD,
    USERNAME,
    json_response,
    respond,
)
from tests.support.redis_fixtures import REDIS_URL

PROBE = "balance:default"  # the probe asks for customer id 1's balance, no program
NOT_FOUND = {"errors": [{"code": 8015, "message": "Customer not found"}]}
OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture(autouse=True)
def _limiter_state_is_this_tests() -> Iterator[None]:
    yield
    limiter._storage_dead = False


@pytest.fixture
def desk(make_app, fake_server, fake) -> Callable[..., Flask]:
    """An app whose upstream is the fake; the probe's customer is not found (it answers)."""
    fake.handlers[PROBE] = lambda _request: json_response(NOT_FOUND)

    def build(**overrides: object) -> Flask:
        return make_app(
            **FAST,
            CAPILLARY_BASE_URL=fake_server.url_for("/"),
            CAPILLARY_USERNAME=USERNAME,
            CAPILLARY_PASSWORD=PASSWORD,
            LOOKUP_CACHE_SECONDS=0,
            **overrides,
        )

    return build


def ready(app: Flask, **environ: str):
    """GET /readyz, then wait for its probe to end (so the next request sees its verdict)."""
    response = app.test_client().get("/readyz", environ_base=environ)
    with app.app_context():
        assert get_probe().wait_until_idle(30)
    return response


def probes(fake) -> int:
    return fake.count(PROBE)


def test_the_probes_call_is_counted_in_the_budget(desk, fake):
    app = desk(CAPILLARY_CALLS_PER_MINUTE=100)
    assert ready(app).status_code == 200
    assert probes(fake) == 1
    # The probe's balance call and its look at the org's program list, both counted.
    assert app.extensions["lookup"].budget.usage().used == {"all": 2}


@pytest.mark.redis
def test_the_workers_of_one_server_share_one_probe(desk, fake, redis_prefix):
    shared = {
        "CAPILLARY_CALLS_PER_MINUTE": 100,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": redis_prefix + "limits",
        "CAPILLARY_BUDGET_KEY_PREFIX": redis_prefix + "budget:",
        "READINESS_KEY_PREFIX": redis_prefix + "readyz:",
        "READINESS_CACHE_SECONDS": 300,
    }
    workers = [desk(**shared), desk(**shared)]
    answers = [ready(worker) for _ in range(4) for worker in workers]
    assert [answer.status_code for answer in answers] == [200] * 8
    assert {answer.json["upstream"] for answer in answers} == {"answers"}
    assert probes(fake) == 1  # one probe for both workers, counted once in the shared budget
    assert workers[1].extensions["lookup"].budget.usage().used == {"all": 2}


def test_no_probe_while_a_429_pause_holds(desk, fake):
    app = desk(CAPILLARY_CALLS_PER_MINUTE=100, READINESS_CACHE_SECONDS=0)
    assert ready(app).status_code == 200
    assert probes(fake) == 1
    # A lookup meets a 429: every upstream call pauses for its Retry-After.
    fake.handlers["*"] = respond({"errors": [{"code": 429, "message": "Too many"}]}, 429)
    client = sign_in(app.test_client(), AGENT)
    assert client.get(f"/members/{MEMBER}").status_code == 503
    assert app.extensions["lookup"].budget.paused_for() > 0
    for _ in range(3):
        response = ready(app)
        # The newest verdict stands (the upstream answered, if only to say "slow down").
        assert response.status_code == 200
    assert probes(fake) == 1


def test_anonymous_callers_are_not_told_the_upstreams_error_type(desk, fake):
    fake.handlers[PROBE] = respond({"errors": [{"code": 401, "message": "Unauthorized"}]}, 401)
    app = desk(READINESS_CACHE_SECONDS=300)
    outsider = ready(app, **OUTSIDER)
    assert outsider.status_code == 503
    assert outsider.json["status"] == "not ready"
    assert outsider.json["upstream"] == "fails"
    operator = app.test_client().get("/readyz", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert operator.status_code == 503
    assert operator.json["upstream"] == "AccessDenied"


@pytest.mark.redis
def test_under_gunicorn_two_workers_make_one_probe(upstream, tmp_path, redis_prefix):
    # A load balancer probing often, its checks spread over both workers of one server.
    config = sandbox_config(upstream)
    env = harness.app_env(
        tmp_path,
        (upstream.url, upstream.username, upstream.password),
        config["CAPILLARY_PROGRAMS"],
        FLASK_RATELIMIT_STORAGE_URI=REDIS_URL,
        FLASK_RATELIMIT_KEY_PREFIX=redis_prefix + "limits",
        FLASK_CAPILLARY_BUDGET_KEY_PREFIX=redis_prefix + "budget:",
        FLASK_READINESS_KEY_PREFIX=redis_prefix + "readyz:",
        FLASK_READINESS_CACHE_SECONDS="300",
        FLASK_CAPILLARY_CALLS_PER_MINUTE="100",
    )
    harness.prepare_database(env, [])
    upstream.configure(latency=0.2)  # each probe takes a while: the workers overlap
    statuses: list[int] = []
    lock = threading.Lock()

    def check(base: str) -> None:
        response = requests.get(base + "/readyz", headers={"Connection": "close"}, timeout=30)
        with lock:
            statuses.append(response.status_code)

    with harness.Processes() as procs:
        base = harness.start_gunicorn(procs, env, harness.free_port(), workers=2, threads=8)
        upstream.clear_log()
        for _ in range(3):
            threads = [threading.Thread(target=check, args=(base,)) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
    probe_calls = [r for r in upstream.request_log() if r.path.endswith("/1/points/balance")]
    assert statuses.count(200) >= 24  # the first few may answer "checking" (503)
    assert set(statuses) <= {200, 503}
    assert len(probe_calls) == 1
