"""Serving: /healthz and /readyz, and liveness under gunicorn while the upstream hangs."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from app.capillary import (
    AccessDenied,
    MalformedResponse,
    MemberNotFound,
    UpstreamApiError,
    UpstreamMisconfigured,
    get_client,
)
from app.clock import SystemClock
from app.main.readiness import ReadinessProbe, get_probe
from app.sandbox import data as demo
from bench import harness
from tests.conftest import sandbox_config


def test_healthz_and_readyz_are_public_and_make_no_upstream_call_for_liveness(
    anon_client, upstream
):
    assert anon_client.get("/healthz").json == {"status": "ok"}
    assert upstream.request_log() == []
    response = anon_client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["upstream"] == "answers"


def test_readiness_is_cached_briefly(make_app, upstream):
    app = make_app(READINESS_CACHE_SECONDS=60)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    # One balance probe, and the program list checked against CAPILLARY_PROGRAMS.
    assert [entry.kind for entry in upstream.request_log()] == ["balance", "programs"]
    upstream.configure(fault="unavailable")
    assert client.get("/readyz").status_code == 200  # the cached verdict
    assert len(upstream.request_log()) == 2


@pytest.mark.parametrize("fault", ["unavailable", "html", "malformed"])
def test_readyz_is_503_when_the_upstream_does_not_answer_properly(make_app, upstream, fault):
    upstream.configure(fault=fault)
    client = make_app(READINESS_CACHE_SECONDS=0, CAPILLARY_RETRIES=0).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["upstream"] in (
        "UpstreamUnavailable",
        "UpstreamUnreachable",
        "MalformedResponse",
    )
    upstream.configure(fault=None)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_address_answers_404(make_app, upstream):
    # A wrong base path: the server answers, but not as the API. Not "ready".
    client = make_app(
        CAPILLARY_BASE_URL=upstream.url.rstrip("/") + "/not-the-api/", READINESS_CACHE_SECONDS=0
    ).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["upstream"] == "UpstreamMisconfigured"


class _Answers:
    """A stand-in client whose balance call returns or raises the given outcome."""

    def __init__(self, outcome: object) -> None:
        self.outcome = outcome

    def get_balance(self, member: int) -> object:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.mark.parametrize(
    ("outcome", "ready", "named"),
    [
        ("a balance", True, "answers"),
        (MemberNotFound("not found", code=8015, status=400), True, "answers"),
        (UpstreamApiError("refused", code=1212, status=400), False, "UpstreamApiError"),
        (UpstreamApiError("refused", code=None, status=400), False, "UpstreamApiError"),
        (UpstreamMisconfigured("wrong path", status=405), False, "UpstreamMisconfigured"),
        (AccessDenied("no", code=4000, status=403), False, "AccessDenied"),
        (MalformedResponse("junk", status=200), False, "MalformedResponse"),
    ],
)
def test_only_a_balance_or_member_not_found_counts_as_ready(outcome, ready, named):
    verdict = ReadinessProbe(_Answers(outcome), cache_seconds=0, clock=SystemClock()).check()
    assert (verdict.ready, verdict.upstream) == (ready, named)


def test_the_app_probe_is_made_once_for_the_registered_upstream(make_app, upstream):
    app = make_app(READINESS_CACHE_SECONDS=7)
    with app.app_context():
        probe = get_probe()
        assert probe.client.base_url == get_client().base_url
        assert probe.cache_seconds == 7
        assert probe.wait_seconds == 1.0
        assert get_probe() is probe


def test_readyz_is_503_when_credentials_are_refused(make_app, upstream):
    client = make_app(CAPILLARY_PASSWORD="wrong", READINESS_CACHE_SECONDS=0).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["upstream"] == "AccessDenied"


def _own_session(signed_in: requests.Session) -> requests.Session:
    """A new session with the same sign-in: a requests.Session is not for sharing by threads."""
    session = requests.Session()
    session.cookies.update(signed_in.cookies)
    return session


def test_healthz_answers_while_every_lookup_waits_on_a_hung_upstream(upstream, tmp_path):
    """gunicorn, 1 worker x 6 threads (so 2 lookup slots); 12 lookups at an upstream that
    never answers in time. /healthz must still answer, quickly."""
    config = sandbox_config(upstream)
    sandbox = (upstream.url, upstream.username, upstream.password)
    env = harness.app_env(
        tmp_path,
        sandbox,
        config["CAPILLARY_PROGRAMS"],
        # The lookups hold their slots for 6 s (the upstream would take 10): /healthz must be
        # answered while they still wait, far inside that window.
        FLASK_LOOKUP_DEADLINE="6",
        FLASK_CAPILLARY_RETRIES="0",
    )
    env.pop("FLASK_LOOKUP_MAX_CONCURRENT", None)
    harness.prepare_database(env, ["agent.alice"])
    slots = 6 - 4  # gunicorn.conf.py: the bulkhead is threads - 4
    # Each admitted lookup sends its calls at once: one balance per program (the default
    # program's is also the page's scope) and the schedule.
    hung_calls = slots * (len(config["CAPILLARY_PROGRAMS"]) + 1)
    with harness.Processes() as procs:
        base = harness.start_gunicorn(procs, env, harness.free_port(), workers=1, threads=6)
        signed_in = harness.signed_in(base, "agent.alice")
        upstream.configure(fault="slow", slow_seconds=10)
        upstream.clear_log()
        statuses: list[int] = []

        def look_up(n: int, session: requests.Session) -> None:
            link = f"{base}/members/{demo.MEMBER_MULTI_PROGRAM}?from=2030-01-{n + 1:02d}"
            try:
                statuses.append(session.get(link, timeout=15).status_code)
            except requests.RequestException:
                statuses.append(-1)
            finally:
                session.close()

        lookups = [
            threading.Thread(target=look_up, args=(n, _own_session(signed_in))) for n in range(12)
        ]
        for thread in lookups:
            thread.start()
        # Time /healthz only once the lookup slots really hold hung upstream calls.
        deadline = time.monotonic() + 10
        while (received := len(upstream.request_log())) < hung_calls:
            assert time.monotonic() < deadline, f"upstream got {received}/{hung_calls} calls"
            time.sleep(0.02)
        health = requests.get(base + "/healthz", timeout=5)
        still_waiting = 12 - len(statuses)
        for thread in lookups:
            thread.join(20)
        upstream.configure(fault=None)
    assert health.status_code == 200
    assert still_waiting >= slots, "the hung lookups had already returned when /healthz was timed"
    assert len(statuses) == 12
    assert statuses.count(503) >= 8  # turned away at once: only two lookups may wait
    assert -1 not in statuses
