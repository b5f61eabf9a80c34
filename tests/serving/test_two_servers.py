"""Two servers, one desk: two app servers under gunicorn on one PostgreSQL database and one
Redis share the cache, sign-in, the rate limits and the audit trail.

The layout of docs/operations.md "Two servers, one desk": both servers get the same
FLASK_SECRET_KEY and FLASK_AUDIT_HASH_KEY, one database (a schema of this run in the `test`
database, dropped at the end) and one Redis for the cache and the limits, under key prefixes
of this run alone (only those keys are deleted at the end). The upstream is the embedded
sandbox, whose request log shows every call the servers make.

Need PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379; without them the tests skip
(fail when CI=true). A setting every test's servers should have goes in SHARED_SETTINGS;
a test that needs servers of its own with one more setting uses two_servers().
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from bs4 import BeautifulSoup

from app.sandbox import data as demo
from app.sandbox.server import SandboxServer
from bench import harness
from tests.conftest import sandbox_config
from tests.support.metrics_samples import calls, lookups, parse

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS_URL = "redis://127.0.0.1:6379/0"
MEMBER = demo.DEMO_MEMBERS_BY_ID[demo.MEMBER_MULTI_PROGRAM]
LOOKUP_LIMIT = 3
# What both servers are started with, on top of the shared database, Redis and keys. The
# lookup limit is per staff member: each test signs in as its own.
SHARED_SETTINGS = {
    "FLASK_LOOKUP_RATE_LIMIT": f"{LOOKUP_LIMIT} per hour",
    # Long enough that a page cached by one server is still there when the other asks.
    "FLASK_LOOKUP_CACHE_SECONDS": "600",
}
STAFF = (
    "agent.cookie",
    "agent.cache",
    "agent.limits",
    "agent.audit",
    "agent.locked",
    "agent.budget",
    "agent.hammer",
    "agent.steady",
)


@dataclass
class Desk:
    """Two running servers and what they share."""

    a: str
    b: str
    env: dict[str, str]
    sandbox: SandboxServer
    schema_url: str
    token: str
    redis: redis.Redis

    def audit_rows(self) -> list[tuple[str, str, int | None]]:
        """(staff, outcome, member id) of every audit record, oldest first."""
        with psycopg.connect(self.schema_url) as conn:
            return conn.execute(
                "SELECT staff_username, outcome, member_id FROM audit_record ORDER BY id"
            ).fetchall()

    def redis_keys(self, pattern: str) -> list[bytes]:
        """The keys of the shared Redis that match the pattern."""
        return list(self.redis.scan_iter(match=pattern, count=500))

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real CLI on the shared database."""
        return subprocess.run(
            [str(harness.BIN / "flask"), "--app", "app", *args],
            env=self.env,
            cwd=harness.ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _shared_redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        message = f"No Redis answers at {REDIS_URL} ({exc}); start one to run these tests."
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return client


@contextmanager
def two_servers(
    pg_server: str, sandbox: SandboxServer, directory: Path, **settings: str
) -> Iterator[Desk]:
    """Two servers on a schema and Redis prefixes of their own, with SHARED_SETTINGS and
    these settings (FLASK_* environment variables) on both; all removed at the end. A test
    of a setting the other tests must not see (a shared upstream calls budget, say) starts
    its own pair: `with two_servers(pg_server, sandbox, tmp_path, FLASK_X="...") as desk`."""
    shared_redis = _shared_redis()
    token = f"pd-two-servers-{uuid.uuid4().hex[:12]}"
    schema = token.replace("-", "_")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    schema_url = f"{pg_server}?options=-csearch_path%3D{schema}"
    env = harness.app_env(
        directory,
        (sandbox.url, sandbox.username, sandbox.password),
        sandbox_config(sandbox)["CAPILLARY_PROGRAMS"],
        FLASK_DATABASE_URL=schema_url,
        FLASK_CACHE_REDIS_URL=REDIS_URL,
        FLASK_CACHE_KEY_PREFIX=f"{token}:cache:",
        FLASK_RATELIMIT_STORAGE_URI=REDIS_URL,
        FLASK_RATELIMIT_KEY_PREFIX=f"{token}-limits",
        FLASK_CAPILLARY_BUDGET_KEY_PREFIX=f"{token}:budget:",
        **{**SHARED_SETTINGS, **settings},
    )
    try:
        harness.prepare_database(env, list(STAFF))
        with harness.Processes() as procs:
            a, b = harness.start_two_servers(procs, env, workers=1, threads=10)
            yield Desk(a, b, env, sandbox, schema_url, token, shared_redis)
    finally:
        # Only this run's keys: the cache's and the limiter's prefixes both carry the token.
        keys = list(shared_redis.scan_iter(match=f"*{token}*", count=500))
        if keys:
            shared_redis.delete(*keys)
        shared_redis.close()
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def desk(
    pg_server: str, sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """One pair of servers for the module's tests."""
    with two_servers(pg_server, sandbox, tmp_path_factory.mktemp("two-servers")) as pair:
        yield pair


@pytest.fixture
def quiet(desk: Desk) -> Iterator[Desk]:
    """The desk with the sandbox's faults cleared and its request log empty."""
    desk.sandbox.reset()
    yield desk
    desk.sandbox.reset()


def _copy(signed_in: requests.Session) -> requests.Session:
    """A session of its own with the same cookies (a session is not for sharing by threads).
    Cookies do not name a port: one jar serves both servers, as one browser would."""
    session = requests.Session()
    session.cookies.update(signed_in.cookies)
    return session


def _clear_of_a_minute_edge(base: str, room: float = 20.0) -> None:
    """Wait, when the server's clock (its Date header) is less than room seconds before a new
    minute, for that minute to begin: the limits and the calls budget count in windows of a
    minute (or an hour), and a burst sent across a window's edge is counted in two."""
    said = requests.get(base + "/healthz", timeout=30).headers["Date"]
    second = parsedate_to_datetime(said).second
    if second > 60 - room:
        time.sleep(60 - second + 1)


def _lookup(base: str, session: requests.Session, identifier: str = MEMBER.mobile):
    page = session.get(base + "/", timeout=30)
    assert page.status_code == 200, page.status_code
    return session.post(
        base + "/lookup",
        data={
            "identifier_type": "mobile",
            "identifier": identifier,
            "csrf_token": harness.csrf_token(page.text),
        },
        timeout=30,
        allow_redirects=False,
    )


def test_a_sign_in_on_one_server_is_good_on_the_other(quiet):
    on_a = harness.signed_in(quiet.a, "agent.cookie")
    page = on_a.get(quiet.b + "/", timeout=30, allow_redirects=False)
    assert page.status_code == 200
    # Without the cookie, B sends the visitor to sign in.
    assert requests.get(quiet.b + "/", timeout=30, allow_redirects=False).status_code == 302


def test_failed_sign_ins_on_both_servers_lock_the_account_on_both(quiet):
    def fail(base: str) -> None:
        session = requests.Session()
        form = session.get(base + "/login", timeout=30)
        response = session.post(
            base + "/login",
            data={
                "username": "agent.locked",
                "password": "not the password",
                "csrf_token": harness.csrf_token(form.text),
            },
            timeout=30,
            allow_redirects=False,
        )
        assert response.status_code != 302

    for base in (quiet.a, quiet.b, quiet.a, quiet.b, quiet.a):  # LOGIN_MAX_FAILURES_PER_ACCOUNT
        fail(base)
    for base in (quiet.a, quiet.b):
        with pytest.raises(RuntimeError, match="sign-in failed"):
            harness.signed_in(base, "agent.locked")


def test_a_member_looked_up_on_one_server_is_served_by_the_other_from_the_shared_cache(quiet):
    on_a = harness.signed_in(quiet.a, "agent.cache")
    found = _lookup(quiet.a, on_a)
    assert found.status_code == 302
    link = found.headers["Location"]
    assert link.startswith(f"/members/{MEMBER.id}")
    programs = len(sandbox_config(quiet.sandbox)["CAPILLARY_PROGRAMS"])
    # The lookup's one round: balances, schedule, customer details, expiry schedule.
    assert len(quiet.sandbox.request_log()) == programs + 3
    quiet.sandbox.clear_log()

    b_before = parse(requests.get(quiet.b + "/metrics", timeout=30).text)
    page = on_a.get(quiet.b + link, timeout=30)
    assert page.status_code == 200
    assert page.headers["X-Upstream-Calls"] == "0"
    assert quiet.sandbox.request_log() == []
    # What B read is in the shared Redis, under this run's cache prefix.
    assert quiet.redis_keys(f"{quiet.token}:cache:balance:{MEMBER.id}:*")
    # B redeemed the receipt A's lookup left in the shared database: one lookup, one record.
    assert [row for row in quiet.audit_rows() if row[0] == "agent.cache"] == [
        ("agent.cache", "found", MEMBER.id)
    ]
    # B's own /metrics (scraped on loopback) counts the page and no call upstream.
    b_after = parse(requests.get(quiet.b + "/metrics", timeout=30).text)
    assert lookups(b_after, "member", "found") - lookups(b_before, "member", "found") == 1
    assert calls(b_after, "balance", "ok") == calls(b_before, "balance", "ok")
    assert calls(b_after, "schedule", "ok") == calls(b_before, "schedule", "ok")


def test_the_rate_limit_is_counted_across_both_servers(quiet):
    on_a = harness.signed_in(quiet.a, "agent.limits")
    on_b = on_a  # the same browser, on the other server
    _clear_of_a_minute_edge(quiet.a)
    statuses = [
        _lookup(quiet.a, on_a).status_code,
        _lookup(quiet.b, on_b).status_code,
        _lookup(quiet.a, on_a).status_code,
    ]
    assert statuses == [302] * LOOKUP_LIMIT
    # The fourth, on either server, is over the one limit.
    assert _lookup(quiet.b, on_b).status_code == 429
    assert _lookup(quiet.a, on_a).status_code == 429
    # The counts are in the shared Redis, under this run's limiter prefix.
    assert quiet.redis_keys(f"*{quiet.token}-limits*")


def test_both_servers_write_one_audit_trail_that_verifies(quiet):
    on_a = harness.signed_in(quiet.a, "agent.audit")
    on_b = on_a  # the same browser, on the other server
    before = len(quiet.audit_rows())
    assert _lookup(quiet.a, on_a).status_code == 302
    assert len(quiet.audit_rows()) == before + 1
    token_b = harness.csrf_token(on_b.get(quiet.b + "/", timeout=30).text)
    refreshed = on_b.post(
        f"{quiet.b}/members/{MEMBER.id}/refresh",
        data={"csrf_token": token_b},
        timeout=30,
        allow_redirects=False,
    )
    assert refreshed.status_code == 302
    assert len(quiet.audit_rows()) == before + 2

    # Both servers at once: every record still lands in the one chain, in order.
    statuses: list[int] = []
    lock = threading.Lock()

    def refresh(base: str, session: requests.Session, token: str) -> None:
        response = session.post(
            f"{base}/members/{MEMBER.id}/refresh",
            data={"csrf_token": token},
            timeout=60,
            allow_redirects=False,
        )
        with lock:
            statuses.append(response.status_code)

    token_a = harness.csrf_token(on_a.get(quiet.a + "/", timeout=30).text)
    workers = [
        threading.Thread(target=refresh, args=(base, _copy(on_a), token))
        for base, token in [(quiet.a, token_a), (quiet.b, token_b)] * 4
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(90)
    assert statuses == [302] * 8
    mine = [row for row in quiet.audit_rows() if row[0] == "agent.audit"]
    assert len(mine) == 10
    assert {row[1] for row in mine} == {"found"}

    verified = quiet.flask("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "The audit trail is intact" in verified.stdout


def test_the_upstream_budget_is_spent_by_both_servers_together(
    pg_server: str, sandbox: SandboxServer, tmp_path: Path
):
    programs = len(sandbox_config(sandbox)["CAPILLARY_PROGRAMS"])
    # Room for two lookups' calls a minute (a balance per program, the schedule, customer
    # details and the expiry schedule), for both servers together; one agent may spend it all.
    ceiling = 2 * (programs + 3)
    with two_servers(
        pg_server,
        sandbox,
        tmp_path,
        FLASK_CAPILLARY_CALLS_PER_MINUTE=str(ceiling),
        FLASK_CAPILLARY_CALLS_PER_STAFF=str(ceiling),
        FLASK_CAPILLARY_BUDGET_RESERVE="0",
    ) as desk:
        sandbox.reset()
        browser = harness.signed_in(desk.a, "agent.budget")
        _clear_of_a_minute_edge(desk.a)
        assert _lookup(desk.a, browser).status_code == 302
        assert _lookup(desk.b, browser).status_code == 302
        assert len(sandbox.request_log()) == 2 * (programs + 3)
        sandbox.clear_log()
        # A third lookup, on either server, would go past the minute's calls.
        refused = _lookup(desk.a, browser)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 1
        message = BeautifulSoup(refused.text, "html.parser").select_one("#budget-message")
        assert message is not None
        assert message.get_text().startswith("The desk is busy: try again in")
        assert sandbox.request_log() == []
        assert desk.redis_keys(f"{desk.token}:budget:*")


def test_one_agent_hammering_refresh_on_both_servers_leaves_the_desk_open(
    pg_server: str, sandbox: SandboxServer, tmp_path: Path
):
    # The red team's run: one agent sends 30 refreshes of a member page at once, over both
    # servers, with the demo cluster's 100 calls a minute (default shares: 25 a person, 20
    # kept back). Before fair shares, 22 went through and every other agent got 503s.
    # A page's calls: a balance per program, the schedule, customer details, the expiry schedule.
    page = len(sandbox_config(sandbox)["CAPILLARY_PROGRAMS"]) + 3
    # Every thread may hold a lookup slot: the ten refreshes the rate limit lets through can
    # all land on one server, and this test is about shares, not the busy page (whose 503
    # would otherwise stand in for a share's now and then).
    with two_servers(
        pg_server,
        sandbox,
        tmp_path,
        FLASK_CAPILLARY_CALLS_PER_MINUTE="100",
        FLASK_LOOKUP_MAX_CONCURRENT="10",
    ) as desk:
        hammer = harness.signed_in(desk.a, "agent.hammer")
        steady = harness.signed_in(desk.b, "agent.steady")
        tokens = {
            base: harness.csrf_token(hammer.get(base + "/", timeout=30).text)
            for base in (desk.a, desk.b)
        }
        _clear_of_a_minute_edge(desk.a)
        sandbox.clear_log()
        answers: list[requests.Response] = []
        lock = threading.Lock()

        def refresh(base: str) -> None:
            response = _copy(hammer).post(
                f"{base}/members/{MEMBER.id}/refresh",
                data={"csrf_token": tokens[base]},
                timeout=60,
                allow_redirects=False,
            )
            with lock:
                answers.append(response)

        workers = [threading.Thread(target=refresh, args=(base,)) for base in (desk.a, desk.b) * 15]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(90)
        statuses = sorted(answer.status_code for answer in answers)
        # REFRESH_RATE_LIMIT lets 10 a minute through, of which the agent's 25 calls pay
        # for 4 (6 calls each); the other 6 are told the share is theirs.
        own = 25 // page
        assert statuses == [302] * own + [429] * 20 + [503] * (10 - own)
        for answer in answers:
            if answer.status_code == 503:
                words = BeautifulSoup(answer.text, "html.parser").select_one("#budget-message")
                assert words is not None
                assert words.get_text().startswith("You have used your share of lookups")
        assert len(sandbox.request_log()) == own * page
        # Everyone else's lookups go on, on either server.
        found = _lookup(desk.b, steady)
        assert found.status_code == 302
        assert steady.get(desk.a + found.headers["Location"], timeout=30).status_code == 200
