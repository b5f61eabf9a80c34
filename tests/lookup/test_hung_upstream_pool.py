"""A hung upstream under gunicorn with PostgreSQL (the production layout): lookups beyond the
bulkhead get the quick "busy" page, no lookup holds a database connection while it waits,
pages that look nothing up answer while every lookup slot waits, and every lookup that ran
is in the audit trail.

40 concurrent clients from 5 staff: 30 member pages (28 slots: gunicorn's 32 threads - 4)
and 10 other pages. The upstream is a socket server that accepts and never answers.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
import requests

from bench import harness
from tests.support.fault_servers import hung_server

pytestmark = pytest.mark.postgres

STAFF = [f"agent.{n}" for n in range(5)]
PROGRAMS = {2199: "Gold Club", 1933: "Partner Rewards", 890: "Fuel Rewards"}
THREADS = 32
SLOTS = THREADS - 4
LOOKUPS = 30
OTHERS = ["/"] * 6 + ["/readyz"] * 2 + ["/healthz"] * 2


def _own_session(signed_in: requests.Session) -> requests.Session:
    session = requests.Session()
    session.cookies.update(signed_in.cookies)
    return session


def _in_transaction(server_url: str, application: str) -> int:
    """The app's connections inside an open transaction: a lookup holding one while waiting."""
    with psycopg.connect(server_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND state LIKE 'idle in transaction%%'",
            (application,),
        ).fetchone()[0]


def _audit_rows(server_url: str, schema: str) -> int:
    with psycopg.connect(server_url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}".audit_record').fetchone()[0]


def _wait_until(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_a_hung_upstream_holds_no_connection_and_leaves_other_pages_free(request, tmp_path):
    server_url = request.getfixturevalue("pg_server")
    schema = f"points_desk_hang_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{server_url}?options=-csearch_path%3D{schema}&application_name={schema}"
    try:
        with hung_server() as hung, harness.Processes() as procs:
            env = harness.app_env(
                tmp_path,
                (hung.url, "till", "till-password"),
                PROGRAMS,
                FLASK_DATABASE_URL=url,
                FLASK_CAPILLARY_RETRIES="0",
            )
            for key in ("FLASK_LOOKUP_MAX_CONCURRENT", "FLASK_DATABASE_POOL_SIZE"):
                env.pop(key, None)  # as gunicorn.conf.py sets them
            harness.prepare_database(env, STAFF)
            base = harness.start_gunicorn(
                procs, env, harness.free_port(), workers=1, threads=THREADS
            )
            staff = [harness.signed_in(base, name) for name in STAFF]
            lookups: list[int] = []
            others: list[tuple[str, int, int]] = []

            def look_up(n: int) -> None:
                session = _own_session(staff[n % len(staff)])
                link = f"{base}/members/700000001?from=2030-01-{n % 28 + 1:02d}&program={2199}"
                try:
                    lookups.append(session.get(link, timeout=60).status_code)
                except requests.RequestException:
                    lookups.append(-1)

            threads = [threading.Thread(target=look_up, args=(n,)) for n in range(LOOKUPS)]
            for thread in threads:
                thread.start()
            # Every slot taken: the two beyond the bulkhead were turned away, and the upstream
            # holds as many calls as the shared upstream pool can send.
            _wait_until(lambda: lookups.count(503) >= LOOKUPS - SLOTS, "the busy pages")
            _wait_until(lambda: hung.accepted >= 32, "32 calls held upstream")
            held = [_in_transaction(server_url, schema) for _ in range(10)]

            def other(n: int, path: str) -> None:
                session = _own_session(staff[n % len(staff)])
                try:
                    status = session.get(base + path, timeout=30).status_code
                except requests.RequestException:
                    status = -1
                others.append((path, status, len(lookups)))

            extra = [threading.Thread(target=other, args=pair) for pair in enumerate(OTHERS)]
            for thread in extra:
                thread.start()
            for thread in extra:
                thread.join(60)
            hung.release()
            for thread in threads:
                thread.join(60)
        rows = _audit_rows(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    assert held == [0] * 10, "lookups kept database connections while waiting upstream"
    # The other pages answered while every admitted lookup was still waiting (only the
    # busy pages had come back), and none of them needed the upstream to answer.
    by_path = sorted((path, status) for path, status, _ in others)
    assert by_path == sorted([("/", 200)] * 6 + [("/healthz", 200)] * 2 + [("/readyz", 503)] * 2), (
        by_path
    )
    assert {done for _, _, done in others} == {LOOKUPS - SLOTS}
    assert len(lookups) == LOOKUPS and 500 not in lookups and -1 not in lookups
    assert lookups.count(503) >= LOOKUPS - SLOTS
    # Every lookup that ran is in the audit trail (the busy ones showed nothing).
    assert rows == SLOTS
