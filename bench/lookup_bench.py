"""The lookup benchmark: `make bench` (or `.venv/bin/python -m bench.lookup_bench`).

Starts the sandbox in its own process with an injected latency L per upstream request and
three programs, runs the app under gunicorn (gunicorn.conf.py), signs staff in through the
real login form, and prints, from one run, each figure with its target and the ratio:

- against the floor (bench/floor_app.py: the same upstream calls at once with requests and
  the same figures in a Jinja page, nothing else), run under the same gunicorn settings
  against the same sandbox, its lookups interleaved one by one with the desk's, at L = 0
  and L = 100 ms: each app's p50 and p95 above L and its workers' CPU per lookup, and the
  desk's as multiples of the floor's (the targets: at most 1.5x above L, 2x CPU);
- upstream calls per lookup for each page kind: first screen, cached page, refresh;
- lookup latency p50/p95 from pressing Look up to the member page received (POST, redirect
  and page, as a browser does) at L = 100 ms; every lookup uncached (its own date range),
  proved by the X-Upstream-Calls header;
- throughput with 32 concurrent signed-in clients at L = 50 ms (reported, not a target),
  its errors, and the app's CPU per lookup (the gunicorn workers' user + system time from
  /proc over the same seconds), beside the sandbox's and the load generator's over those
  seconds and the ceiling the three together leave on this machine's cores;
- the cached member page, and the server time to render a member with 5,000 schedule entries;
- p50 with two app servers on one PostgreSQL and one Redis (each POST on one server, its
  page on the other); left out, with the reason, when either is not there;
- the page time while every schedule call hangs for a minute (bounded by LOOKUP_DEADLINE);
- the last-known page's latency while the upstream refuses every connection (the sandbox
  stopped), for a member looked up a moment before;
- for comparison, the same calls made one after another with the CapillaryClient.

The load generator runs on the same machine. Loopback only; every process it starts is
stopped at the end, also on failure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import requests

from app.clock import SystemClock
from bench import harness

PROGRAMS = {2199: "Gold Club", 1933: "Partner Rewards", 890: "Fuel Rewards"}
MOBILE = "919800000001"  # the sandbox's multi-program member
# A first screen's calls: a balance per program (the default program's is one of them), the
# schedule, customer details and the points-expiry schedule.
FIRST_SCREEN = len(PROGRAMS) + 3
AGENT = "bench.agent"
# The load generator's dates (the "from" of each lookup) come from the same clock as the app's.
CLOCK = SystemClock()


@dataclass
class Targets:
    """What the issues ask for."""

    latency_ms: float = 100.0
    throughput_latency_ms: float = 50.0
    clients: int = 32
    # Against the floor (bench/floor_app.py) in the same run: the desk's lookup time above
    # L, and its workers' CPU per lookup, as multiples of the floor's.
    overhead_vs_floor: float = 1.5
    cpu_vs_floor: float = 2.0
    cached_page_ms: float = 10.0
    render_ms: float = 150.0
    deadline_s: float = 4.0  # LOOKUP_DEADLINE's default

    def p50_ms(self) -> float:
        """Lookup p50: one round of upstream latency, little more."""
        return 1.05 * self.latency_ms + 10

    def p95_ms(self) -> float:
        """Lookup p95."""
        return 1.10 * self.latency_ms + 15


@dataclass
class Figure:
    """One measured figure against its target: lower is better unless higher_is_better."""

    name: str
    value: float
    target: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        """Whether the figure meets its target."""
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        """The figure, its target, the ratio of the two and the verdict, on one line."""
        sign = ">=" if self.higher_is_better else "<="
        ratio = f"{self.value / self.target:5.2f}" if self.target else "    -"
        return (
            f"  {self.name:<46} {self.value:9.1f} {self.unit:<9} target {sign} "
            f"{self.target:7.1f}  ratio {ratio}  "
            f"{'MET' if self.met else 'MISSED'}"
        )


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the nearest ranks."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def lookup_form(start: date, end: date | None = None) -> dict[str, str]:
    """The lookup form's fields for the benchmark member; the dates make it unique."""
    return {
        "identifier_type": "mobile",
        "identifier": MOBILE,
        "program": str(next(iter(PROGRAMS))),
        "start_date": start.isoformat(),
        "end_date": (end or start + timedelta(days=3650)).isoformat(),
    }


class Client:
    """One signed-in browser: a session and the lookup form's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = harness.signed_in(base, AGENT)
        self.token = harness.csrf_token(self.session.get(base + "/", timeout=10).text)

    def look_up(self, start: date) -> tuple[float, requests.Response]:
        """POST the form and follow the redirect; seconds taken and the final response."""
        began = time.perf_counter()
        response = self.session.post(
            self.base + "/lookup",
            data={**lookup_form(start), "csrf_token": self.token},
            timeout=30,
        )
        return time.perf_counter() - began, response


def upstream_calls(response: requests.Response) -> tuple[int, int]:
    """(calls made by the POST, calls made by the member page it redirected to)."""
    if not response.history:
        raise RuntimeError(f"lookup did not redirect (status {response.status_code})")
    return (
        int(response.history[0].headers["X-Upstream-Calls"]),
        int(response.headers["X-Upstream-Calls"]),
    )


def measure_lookups(client: Client, count: int, first_day: date) -> tuple[list[float], set]:
    """Uncached lookups, one after another; seconds each and the calls seen."""
    client.look_up(first_day - timedelta(days=1))  # warm: connections, token, caches
    times: list[float] = []
    calls: set[tuple[int, int]] = set()
    for n in range(count):
        elapsed, response = client.look_up(first_day + timedelta(days=n))
        if response.status_code != 200:
            raise RuntimeError(f"lookup {n} answered {response.status_code}")
        calls.add(upstream_calls(response))
        times.append(elapsed)
    return times, calls


FLOOR_APP = "bench.floor_app:app"


def floor_env(sandbox: harness.SandboxProcess) -> dict[str, str]:
    """Environment for the floor (bench/floor_app.py): the same sandbox and programs."""
    return {
        **os.environ,
        "FLOOR_UPSTREAM_URL": sandbox.url,
        "FLOOR_USERNAME": sandbox.username,
        "FLOOR_PASSWORD": sandbox.password,
        "FLOOR_PROGRAMS": json.dumps({str(k): v for k, v in PROGRAMS.items()}),
        # It sets no cookie; this only quiets gunicorn.conf.py's warning about https.
        "FLASK_SESSION_COOKIE_SECURE": "false",
    }


def floor_link(start: date) -> str:
    """The floor's page for the benchmark member; the dates as the desk's lookup sends them."""
    form = lookup_form(start)
    return (
        f"/members?mobile={MOBILE}&program={form['program']}"
        f"&from={form['start_date']}&to={form['end_date']}"
    )


@dataclass
class Side:
    """One app's lookups in the floor comparison: seconds each, and its workers' CPU."""

    times: list[float]
    cpu: float
    calls: set

    def above(self, q: float, latency_ms: float) -> float:
        """The q-th percentile of the lookup time less L, in ms."""
        return pct(self.times, q) * 1000 - latency_ms

    def cpu_ms(self) -> float:
        """Worker CPU milliseconds per lookup."""
        return self.cpu / len(self.times) * 1000


@dataclass
class VersusFloor:
    """The desk and the floor at one upstream latency, their lookups interleaved."""

    latency_ms: float
    desk: Side
    floor: Side

    def ratio(self, q: float) -> float:
        """The desk's overhead above L over the floor's, at the q-th percentile."""
        return self.desk.above(q, self.latency_ms) / max(self.floor.above(q, self.latency_ms), 0.1)

    def cpu_ratio(self) -> float:
        """The desk's CPU per lookup over the floor's."""
        return self.desk.cpu_ms() / max(self.floor.cpu_ms(), 0.01)


def measure_versus_floor(
    client: Client,
    floor_base: str,
    desk_workers: list[int],
    floor_workers: list[int],
    count: int,
    first_day: date,
    latency_ms: float,
) -> VersusFloor:
    """Uncached lookups on the desk (POST, redirect, page) and the floor (one GET),
    interleaved one by one so both see the same machine; the CPU each server's workers
    used meanwhile (a lookup on one app uses none of the other's workers)."""
    floor = requests.Session()
    client.look_up(first_day - timedelta(days=1))  # warm: connections on both sides
    floor.get(floor_base + floor_link(first_day - timedelta(days=1)), timeout=30)
    desk_times: list[float] = []
    floor_times: list[float] = []
    desk_calls: set[tuple[int, int]] = set()
    floor_calls: set[int] = set()
    # Over the whole series, so work a worker finishes after its response is counted too;
    # both servers idle through the same seconds.
    desk_before = sum(harness.cpu_seconds(pid) for pid in desk_workers)
    floor_before = sum(harness.cpu_seconds(pid) for pid in floor_workers)
    for n in range(count):
        start = first_day + timedelta(days=n)
        elapsed, response = client.look_up(start)
        if response.status_code != 200:
            raise RuntimeError(f"desk lookup {n} answered {response.status_code}")
        desk_calls.add(upstream_calls(response))
        desk_times.append(elapsed)
        began = time.perf_counter()
        page = floor.get(floor_base + floor_link(start), timeout=30)
        floor_times.append(time.perf_counter() - began)
        if page.status_code != 200:
            raise RuntimeError(f"floor lookup {n} answered {page.status_code}")
        floor_calls.add(int(page.headers["X-Upstream-Calls"]))
    desk_cpu = sum(harness.cpu_seconds(pid) for pid in desk_workers) - desk_before
    floor_cpu = sum(harness.cpu_seconds(pid) for pid in floor_workers) - floor_before
    return VersusFloor(
        latency_ms,
        Side(desk_times, desk_cpu, desk_calls),
        Side(floor_times, floor_cpu, floor_calls),
    )


def measure_refresh(client: Client, first_day: date) -> tuple[int, int]:
    """Upstream calls of the member page's Refresh: (its POST, the page it redirects to)."""
    _, shown = client.look_up(first_day)
    path = shown.url.removeprefix(client.base)
    member_path, _, query = path.partition("?")
    response = client.session.post(
        f"{client.base}{member_path}/refresh?{query}",
        data={"csrf_token": client.token},
        timeout=30,
    )
    if response.status_code != 200:
        raise RuntimeError(f"refresh answered {response.status_code}")
    return upstream_calls(response)


def measure_naive(sandbox: harness.SandboxProcess, count: int, first_day: date) -> list[float]:
    """The same six calls per lookup (a balance per program, the schedule, customer details,
    the expiry schedule), made one after another with the client directly."""
    from app.capillary import Identifier, MemberLookup
    from app.capillary.auth import BasicAuth
    from app.capillary.client import CapillaryClient

    client = CapillaryClient(sandbox.url, BasicAuth(sandbox.username, sandbox.password))
    member = MemberLookup((Identifier("mobile", MOBILE),))
    times: list[float] = []
    for n in range(count + 1):
        start = first_day + timedelta(days=n)
        began = time.perf_counter()
        for program_id in PROGRAMS:
            client.get_balance(member, program_id=program_id)
        client.get_schedule(
            member,
            program_id=next(iter(PROGRAMS)),
            start_date=start,
            end_date=start + timedelta(days=3650),
        )
        client.get_member_profile(member)
        client.get_expiry_schedule(member)
        if n:  # the first warms the connection
            times.append(time.perf_counter() - began)
    return times


def measure_cached(client: Client, count: int, first_day: date) -> tuple[list[float], set]:
    """Reload one member page (a deep link) that is in the cache."""
    _, response = client.look_up(first_day)
    link = response.url
    times: list[float] = []
    calls: set[int] = set()
    for _ in range(count):
        began = time.perf_counter()
        page = client.session.get(link, timeout=10)
        times.append(time.perf_counter() - began)
        if page.status_code != 200:
            raise RuntimeError(f"cached page answered {page.status_code}")
        calls.add(int(page.headers["X-Upstream-Calls"]))
    return times, calls


def measure_render(env: dict[str, str], sandbox: harness.SandboxProcess, entries: int) -> float:
    """Median server time (ms) for the member page of a member with `entries` schedule
    entries, in-process: the view, view model and template, data primed in the cache."""
    from app import create_app
    from app.capillary.models import Balance, PromisedSchedule, ScheduleEntry, TriggerEntry
    from app.lookup.fetching.outcome import Outcome
    from app.lookup.fetching.plan import plan_calls
    from app.lookup.fetching.scope import LookupParams
    from app.lookup.fetching.service import get_service

    config = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "bench-render",
        # The served desk's key: the records written here join its chain (another key would
        # find its head unsigned and leave it so, and the desk would log that for every write).
        "AUDIT_HASH_KEY": env["FLASK_AUDIT_HASH_KEY"],
        "DATABASE_URL": env["FLASK_DATABASE_URL"],
        "CAPILLARY_BASE_URL": sandbox.url,
        "CAPILLARY_USERNAME": sandbox.username,
        "CAPILLARY_PASSWORD": sandbox.password,
        "CAPILLARY_PROGRAMS": PROGRAMS,
        "CAPILLARY_DEFAULT_PROGRAM": next(iter(PROGRAMS)),
        "CAPILLARY_CLUSTER_TIMEZONE": "Asia/Kolkata",
        "LOOKUP_CACHE_SECONDS": 3600,
        "DISPLAY_TIMEZONE": "Europe/London",
        # The figure is the 5,000-entry timeline's page, primed with balances and schedule
        # only: the name, tier and expiry calls stay off, so nothing here goes upstream.
        "LOOKUP_MEMBER_DETAILS": False,
        "LOOKUP_EXPIRY": False,
    }
    app = create_app(config)
    # As gunicorn.conf.py's post_worker_init does in the served app: the start-up objects
    # are frozen out of the garbage collector's generations.
    gc.collect()
    gc.freeze()
    member_id = 700000999
    now = CLOCK.now()
    kinds = ("bill_regular", "bill_promotions", "line_item_regular", "customer_promotions")
    schedule = PromisedSchedule(
        member_id,
        "CUSTOMER",
        entries=tuple(
            ScheduleEntry(
                Decimal(f"{(n % 97) + 1}.{n % 10}"),
                now + timedelta(days=1 + n // 3, hours=n % 3),
                list(PROGRAMS)[n % 3],
                kinds[n % 4],
            )
            for n in range(entries)
        ),
        triggers=tuple(TriggerEntry(Decimal("12.5"), 2199, kinds[n % 4]) for n in range(20)),
    )
    balance = Balance(
        member_id, "CUSTOMER", *(Decimal(v) for v in ("9000", "8000", "1000", "600", "400"))
    )
    params = LookupParams(next(iter(PROGRAMS)))
    plan = plan_calls(params, PROGRAMS)
    with app.app_context():
        service = get_service()
        service.cache.set_many(
            (
                call.cache_key(member_id),
                Outcome(schedule if call.kind == "schedule" else balance, None, now),
                3600,
            )
            for call in plan.calls
        )
    client = app.test_client()
    client.post("/login", data={"username": AGENT, "password": harness.STAFF_PASSWORD})
    times = []
    for _ in range(7):
        began = time.perf_counter()
        response = client.get(f"/members/{member_id}")
        times.append(time.perf_counter() - began)
        if response.status_code != 200 or response.headers["X-Upstream-Calls"] != "0":
            raise RuntimeError(f"render page answered {response.status_code}")
    app.extensions["lookup"].pool.shutdown(wait=False)
    return statistics.median(times[1:]) * 1000


@dataclass
class Throughput:
    """One throughput run: lookups done, errors, seconds, and the CPU seconds each party
    used over those seconds (user + system time)."""

    done: int
    errors: int
    elapsed: float
    app_cpu: float  # every gunicorn worker
    sandbox_cpu: float  # the stand-in upstream
    load_cpu: float  # this process: the 32 clients

    def per_lookup_ms(self, cpu: float) -> float:
        """CPU milliseconds per completed lookup."""
        return cpu / max(self.done, 1) * 1000

    def ceiling(self, cores: int) -> float:
        """Lookups a second the machine's cores could do at most, at the CPU all three
        parties used per lookup here (every core busy, no waiting)."""
        total = self.app_cpu + self.sandbox_cpu + self.load_cpu
        return cores * self.done / total if total else 0.0


def measure_throughput(
    base: str, workers: list[int], sandbox_pid: int, clients: int, seconds: float
) -> Throughput:
    """Lookups with `clients` concurrent signed-in sessions, and the CPU that the app, the
    sandbox and the load generator each used meanwhile: all three share this machine."""
    browsers = [Client(base) for _ in range(clients)]
    done = [0] * clients
    errors = [0] * clients
    first_day = CLOCK.now().date() + timedelta(days=1)
    cpu_before = sum(harness.cpu_seconds(pid) for pid in workers)
    sandbox_before = harness.cpu_seconds(sandbox_pid)
    load_before = time.process_time()
    stop_at = time.monotonic() + seconds

    def run(i: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            start = first_day + timedelta(days=i * 1000 + n)
            n += 1
            try:
                _, response = browsers[i].look_up(start)
                if response.status_code == 200 and upstream_calls(response) == (FIRST_SCREEN, 0):
                    done[i] += 1
                else:
                    errors[i] += 1
            except (requests.RequestException, RuntimeError, KeyError, ValueError):
                errors[i] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.monotonic() - began
    return Throughput(
        sum(done),
        sum(errors),
        elapsed,
        app_cpu=sum(harness.cpu_seconds(pid) for pid in workers) - cpu_before,
        sandbox_cpu=harness.cpu_seconds(sandbox_pid) - sandbox_before,
        load_cpu=time.process_time() - load_before,
    )


def measure_hung(client: Client, sandbox: harness.SandboxProcess, count: int) -> list[float]:
    """Seconds from pressing Look up to the member page while every schedule call hangs
    for a minute: the page must come at the page deadline, with the balances."""
    sandbox.hang("schedule", 60)
    first_day = CLOCK.now().date() - timedelta(days=5000)
    times = []
    try:
        for n in range(count):
            elapsed, response = client.look_up(first_day + timedelta(days=n))
            if response.status_code != 200 or "Member " not in response.text:
                raise RuntimeError(f"hung-call lookup answered {response.status_code}")
            times.append(elapsed)
    finally:
        sandbox.clear_fault()
    return times


def measure_stale(client: Client, sandbox: harness.SandboxProcess, count: int) -> list[float]:
    """Seconds for a lookup by mobile while the upstream refuses every connection (the
    sandbox stopped), of a member looked up a moment before: last-known figures."""
    day = CLOCK.now().date() - timedelta(days=6000)
    client.look_up(day)  # fetched once, so its figures are known
    sandbox.stop()
    times = []
    for _ in range(count):
        elapsed, response = client.look_up(day)
        if response.status_code != 200 or 'id="last-known"' not in response.text:
            raise RuntimeError(f"stale lookup answered {response.status_code} without figures")
        times.append(elapsed)
    return times


# Where the two-server figure finds its shared database and Redis (the project's machines
# run both); without them that figure is left out, with the reason.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def measure_two_servers(
    sandbox: harness.SandboxProcess, directory: Path, count: int, first_day: date
) -> list[float] | str:
    """Uncached lookups with two app servers on one PostgreSQL and one Redis, each POST on
    one server and its redirect followed on the other (as a round-robin proxy would send
    them); seconds each, or why it could not run."""
    import psycopg
    import redis

    token = f"pd_bench_{os.getpid()}_{int(time.time())}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{token}"')
        shared = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
        shared.ping()
    except (psycopg.Error, redis.RedisError, OSError) as exc:
        return f"skipped: no PostgreSQL at {POSTGRES_URL} or Redis at {REDIS_URL} ({exc})"
    env = harness.app_env(
        directory,
        sandbox.credentials,
        PROGRAMS,
        FLASK_DATABASE_URL=f"{POSTGRES_URL}?options=-csearch_path%3D{token}",
        FLASK_CACHE_REDIS_URL=REDIS_URL,
        FLASK_CACHE_KEY_PREFIX=f"{token}:cache:",
        FLASK_RATELIMIT_STORAGE_URI=REDIS_URL,
        FLASK_RATELIMIT_KEY_PREFIX=f"{token}-limits",
    )
    try:
        harness.prepare_database(env, [AGENT])
        with harness.Processes() as procs:
            one, other = harness.start_two_servers(procs, env, workers=1, threads=32)
            session = harness.signed_in(one, AGENT)
            token_field = harness.csrf_token(session.get(one + "/", timeout=10).text)
            times = []
            for n in range(count + 1):
                start = first_day + timedelta(days=n)
                began = time.perf_counter()
                posted = session.post(
                    one + "/lookup",
                    data={**lookup_form(start), "csrf_token": token_field},
                    timeout=30,
                    allow_redirects=False,
                )
                page = session.get(other + posted.headers["Location"], timeout=30)
                elapsed = time.perf_counter() - began
                if posted.status_code != 302 or page.headers.get("X-Upstream-Calls") != "0":
                    raise RuntimeError("a two-server lookup was not one round")
                if n:  # the first warms connections and caches
                    times.append(elapsed)
            return times
    finally:
        keys = list(shared.scan_iter(match=f"*{token}*", count=500))
        if keys:
            shared.delete(*keys)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{token}" CASCADE')


def versus_figures(versus: list[VersusFloor], targets: Targets) -> list[Figure]:
    """The targets against the floor: overhead above L (p50, p95) and CPU, at each L."""
    overhead, cpu = targets.overhead_vs_floor, targets.cpu_vs_floor
    figures = []
    for one in versus:
        at = f"L = {one.latency_ms:.0f} ms"
        figures += [
            Figure(f"vs floor, {at}: p50 above L, desk/floor", one.ratio(50), overhead, "x"),
            Figure(f"vs floor, {at}: p95 above L, desk/floor", one.ratio(95), overhead, "x"),
            Figure(f"vs floor, {at}: CPU per lookup, desk/floor", one.cpu_ratio(), cpu, "x"),
        ]
    return figures


def versus_lines(
    versus: list[VersusFloor],
    targets: Targets,
    refresh_calls: tuple[int, int],
    cached_calls: set[int],
    verdicts: bool = True,
) -> list[str]:
    """The comparison with the floor (with each target's verdict unless the caller lists
    those with the others), and the upstream calls per page kind."""
    lines = [
        "Desk against the floor (bench/floor_app.py: Flask, requests, Jinja and nothing else), "
        "same gunicorn settings and sandbox, lookups interleaved one by one",
    ]
    for one in versus:
        desk, floor = one.desk, one.floor
        at = one.latency_ms
        lines.append(
            f"L = {at:.0f} ms, n={len(desk.times)} each: above L p50 desk "
            f"{desk.above(50, at):.1f} ms / floor {floor.above(50, at):.1f} ms = "
            f"{one.ratio(50):.2f}x; p95 desk {desk.above(95, at):.1f} ms / floor "
            f"{floor.above(95, at):.1f} ms = {one.ratio(95):.2f}x; CPU per lookup desk "
            f"{desk.cpu_ms():.1f} ms / floor {floor.cpu_ms():.1f} ms = {one.cpu_ratio():.2f}x"
        )
    if verdicts:
        lines += [figure.line() for figure in versus_figures(versus, targets)]
    first = sorted(set().union(*(one.desk.calls for one in versus)))
    floor_calls = sorted(set().union(*(one.floor.calls for one in versus)))
    lines.append(
        f"upstream calls per lookup, by page kind: first screen (POST + page) {first}; "
        f"cached page {sorted(cached_calls)}; refresh (POST + page) {[refresh_calls]}; "
        f"floor {floor_calls}"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description="Points Desk lookup benchmark")
    parser.add_argument("--lookups", type=int, default=40, help="timed lookups per series")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput duration")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=32, help="gunicorn threads per worker")
    parser.add_argument(
        "--floor-only",
        action="store_true",
        help="only the comparison with the floor and the calls per page kind (quick)",
    )
    args = parser.parse_args(argv)
    targets = Targets()
    cores = os.cpu_count() or 1
    latency = targets.latency_ms
    first_day = CLOCK.now().date() + timedelta(days=1)

    with (
        tempfile.TemporaryDirectory(prefix="pointsdesk-bench-") as tmp,
        harness.Processes() as procs,
    ):
        sandbox = harness.SandboxProcess(procs, latency)
        env = harness.app_env(Path(tmp), sandbox.credentials, PROGRAMS)
        harness.prepare_database(env, [AGENT])
        base = harness.start_gunicorn(
            procs, env, harness.free_port(), workers=args.workers, threads=args.threads
        )
        workers = harness.children(procs.children[-1].pid)
        floor_base = harness.start_gunicorn(
            procs,
            floor_env(sandbox),
            harness.free_port(),
            workers=args.workers,
            threads=args.threads,
            wsgi_app=FLOOR_APP,
        )
        floor_workers = harness.children(procs.children[-1].pid)
        client = Client(base)

        versus = []
        for n, at in enumerate((0.0, latency)):
            sandbox.set_latency(at)
            versus.append(
                measure_versus_floor(
                    client,
                    floor_base,
                    workers,
                    floor_workers,
                    args.lookups,
                    first_day - timedelta(days=9000 - 1000 * n),
                    at,
                )
            )
        sandbox.set_latency(latency)
        refresh_calls = measure_refresh(client, first_day - timedelta(days=7500))
        _, cached_calls = measure_cached(client, 3, first_day - timedelta(days=7000))
        if args.floor_only:
            print("\n".join(versus_lines(versus, targets, refresh_calls, cached_calls)))  # noqa: T201
            return 0

        look, calls = measure_lookups(client, args.lookups, first_day)
        naive = measure_naive(sandbox, args.lookups, first_day + timedelta(days=20000))
        cached, cached_calls = measure_cached(client, 100, first_day + timedelta(days=30000))
        render_ms = measure_render(env, sandbox, 5000)
        sandbox.set_latency(targets.throughput_latency_ms)
        run = measure_throughput(base, workers, sandbox.child.pid, targets.clients, args.seconds)
        sandbox.set_latency(latency)
        two = measure_two_servers(
            sandbox, Path(tmp) / "two", args.lookups, first_day + timedelta(days=10000)
        )
        hung = measure_hung(client, sandbox, 5)
        stale = measure_stale(client, sandbox, 20)

    p50, p95 = pct(look, 50) * 1000, pct(look, 95) * 1000
    n50 = pct(naive, 50) * 1000
    c50, c95 = pct(cached, 50) * 1000, pct(cached, 95) * 1000
    rate = run.done / run.elapsed
    (post_calls, page_calls) = sorted(calls)[0] if len(calls) == 1 else (-1, -1)
    figures = [
        Figure("lookup p50 (POST + redirect + page), ms", p50, targets.p50_ms(), "ms"),
        Figure("lookup p95, ms", p95, targets.p95_ms(), "ms"),
        *versus_figures(versus, targets),
        Figure("throughput errors", run.errors, 0, "errors"),
        Figure("cached member page p50", c50, targets.cached_page_ms, "ms"),
        Figure("render, member with 5,000 schedule entries", render_ms, targets.render_ms, "ms"),
        *(
            [
                Figure(
                    "lookup p50, 2 app servers (POST on one, page on other)",
                    pct(two, 50) * 1000,
                    targets.p50_ms(),
                    "ms",
                )
            ]
            if isinstance(two, list)
            else []
        ),
        Figure("hung schedule call: page after (max)", max(hung), targets.deadline_s, "s"),
        Figure("upstream refusing: last-known page p50", pct(stale, 50), targets.deadline_s, "s"),
    ]
    lines = [
        *versus_lines(versus, targets, refresh_calls, cached_calls, verdicts=False),
        "",
        "Points Desk lookup benchmark (one run; figures, their targets and the ratio)",
        f"machine: {cores} cores (os.cpu_count), Python {sys.version.split()[0]}; "
        f"gunicorn gthread {args.workers} workers x {args.threads} threads; sandbox and load "
        "generator in their own processes on the same machine",
        f"programs: {len(PROGRAMS)}; upstream latency L = {latency:.0f} ms per request",
        "",
        *(figure.line() for figure in figures),
        "",
        f"lookup, uncached, n={len(look)}: p50 {p50:.1f} ms = {p50 / latency:.2f} x L, "
        f"p95 {p95:.1f} ms = {p95 / latency:.2f} x L",
        f"naive sequential fetch of the same calls (CapillaryClient), n={len(naive)}: "
        f"p50 {n50:.1f} ms = {n50 / latency:.2f} x L; speed-up {n50 / p50:.2f}x",
        f"upstream calls per lookup, uncached: {post_calls} (POST) + {page_calls} (page); "
        f"seen {sorted(calls)}; per cached page: {sorted(cached_calls)}",
        f"cached member page, n={len(cached)}: p50 {c50:.1f} ms, p95 {c95:.1f} ms",
        f"throughput, {targets.clients} clients, L = {targets.throughput_latency_ms:.0f} ms: "
        f"{rate:.1f} lookups/s ({run.done} in {run.elapsed:.1f} s), {run.errors} errors; CPU per "
        f"lookup: app {run.per_lookup_ms(run.app_cpu):.1f} ms, sandbox "
        f"{run.per_lookup_ms(run.sandbox_cpu):.1f} ms, load generator "
        f"{run.per_lookup_ms(run.load_cpu):.1f} ms; at that CPU these {cores} cores could "
        f"do at most {run.ceiling(cores):.0f} lookups/s (reported, not a target)",
        (
            f"2 app servers (gunicorn, 1 worker each) on one PostgreSQL and one Redis, "
            f"n={len(two)}: p50 {pct(two, 50) * 1000:.1f} ms, p95 {pct(two, 95) * 1000:.1f} ms"
            if isinstance(two, list)
            else f"2 app servers: {two}"
        ),
        f"hung schedule call, n={len(hung)}: " + ", ".join(f"{seconds:.2f} s" for seconds in hung),
        f"upstream refusing connections, last-known page, n={len(stale)}: "
        f"p50 {pct(stale, 50) * 1000:.0f} ms, p95 {pct(stale, 95) * 1000:.0f} ms",
    ]
    met = sum(figure.met for figure in figures)
    lines.append(f"targets met: {met} of {len(figures)}")
    print("\n".join(lines))  # noqa: T201 - a command-line report
    return 0


if __name__ == "__main__":
    sys.exit(main())
