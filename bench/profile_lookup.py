"""Where a lookup's milliseconds go: `python -m bench.profile_lookup [--lookups 200]`.

Runs the desk in this process (Flask's test client, the real sandbox over HTTP, a SQLite file
as the benchmark uses) for a series of uncached lookups (POST, redirect and page), and prints:

1. the CPU time of each part, unprofiled: the POST's and the page's request thread, the
   upstream calls on the pool's threads, and the named steps inside them (thread CPU time,
   so the upstream's wait is not counted);
2. then, over a second series, cProfile's top functions for the request thread and for the
   pool's threads (their calls profiled one at a time: a profiler follows one thread).

Bench only: the served app is never profiled.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import os
import pstats
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import harness
from bench.lookup_bench import AGENT, CLOCK, PROGRAMS, lookup_form

# The steps timed on their own: (module, function or Class.method, label).
STEPS = (
    ("app.lookup.audited", "_write", "POST: audit record (+ receipt) written"),
    ("app.audit.chain", "link", "POST: audit chain linked (in the record)"),
    ("app.lookup.audited", "_fetch_holding_no_connection", "both: fetch, request thread"),
    ("app.lookup.views", "_form", "both: lookup form built"),
    ("app.lookup.receipts", "redeem", "page: receipt redeemed"),
    ("app.lookup.views", "_page", "page: view model built"),
    ("app.lookup.views", "ticket_summary", "page: ticket summary"),
    ("app.lookup.views", "render_template", "page: template rendered"),
    ("flask_limiter._extension", "Limiter._Limiter__evaluate_limits", "both: rate limits counted"),
    ("flask_login.login_manager", "LoginManager._load_user", "both: signed-in user loaded"),
    ("flask.sessions", "SecureCookieSessionInterface.open_session", "both: session opened"),
    ("flask.sessions", "SecureCookieSessionInterface.save_session", "both: session saved"),
)


def _owner(module_name: str, name: str) -> tuple[Any, str]:
    """The object holding a step (its module, or the class a dotted name names) and the
    attribute's own name."""
    owner: Any = importlib.import_module(module_name)
    *path, attribute = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, attribute


class Split:
    """Thread CPU seconds per label, gathered from every thread."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """function, its thread CPU time counted under label."""

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(label, time.thread_time() - started)

        return wrapper

    def add(self, label: str, seconds: float) -> None:
        """Count seconds under label."""
        with self._lock:
            self.seconds.setdefault(label, []).append(seconds)

    def lines(self, lookups: int) -> list[str]:
        """Per label: calls and CPU ms per lookup, and the median of one call."""
        return [
            f"  {label:<42} {len(times) / lookups:4.1f} calls  "
            f"{sum(times) / lookups * 1000:6.2f} ms per lookup  "
            f"(median call {statistics.median(times) * 1000:5.2f} ms)"
            for label, times in self.seconds.items()
        ]


def main(argv: list[str] | None = None) -> int:
    """Time and profile uncached lookups in process and print where the time went."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="tottime,cumulative")
    parser.add_argument("--dump", help="also write both profiles here, for pstats")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="pointsdesk-profile-") as tmp,
        harness.Processes() as procs,
    ):
        sandbox = harness.SandboxProcess(procs, args.latency_ms)
        env = harness.app_env(Path(tmp), sandbox.credentials, PROGRAMS)
        harness.prepare_database(env, [AGENT])
        os.environ.update(env)
        from app import create_app
        from app.lookup.fetching import plan

        app = create_app()
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={
                "username": AGENT,
                "password": harness.STAFF_PASSWORD,
                "csrf_token": harness.csrf_token(login),
            },
        )
        token = harness.csrf_token(client.get("/").get_data(as_text=True))
        first_day = CLOCK.now().date() + timedelta(days=1)
        split = Split()

        def look_up(n: int) -> None:
            form = {**lookup_form(first_day + timedelta(days=n)), "csrf_token": token}
            began, process_began = time.thread_time(), time.process_time()
            posted = client.post("/lookup", data=form)
            middle = time.thread_time()
            page = client.get(posted.headers.get("Location", "/"))
            split.add("POST, request thread (all of it)", middle - began)
            split.add("page, request thread (all of it)", time.thread_time() - middle)
            # Every thread of the process: the pool's, and any a library starts on the side.
            split.add("lookup, whole process (all threads)", time.process_time() - process_began)
            if page.status_code != 200 or page.headers["X-Upstream-Calls"] != "0":
                raise RuntimeError(f"lookup {n} answered {page.status_code}")

        for n in range(20):  # warm: connections, templates, caches
            look_up(-100 - n)
        originals = []
        for module_name, dotted, label in STEPS:
            owner, name = _owner(module_name, dotted)
            originals.append((owner, name, owner.__dict__[name]))
            setattr(owner, name, split.timed(label, getattr(owner, name)))
        run = plan.Call.run
        plan.Call.run = split.timed("pool: one upstream call", run)  # type: ignore[method-assign]
        started: list[str] = []
        start_thread = threading.Thread.start

        def counted_start(thread: threading.Thread) -> None:
            started.append(type(thread).__name__)
            start_thread(thread)

        threading.Thread.start = counted_start  # type: ignore[method-assign]
        split.seconds.clear()
        for n in range(args.lookups):
            look_up(n)
        threading.Thread.start = start_thread  # type: ignore[method-assign]
        plan.Call.run = run  # type: ignore[method-assign]
        for module, name, original in originals:
            setattr(module, name, original)
        out = io.StringIO()
        out.write(f"==== thread CPU per part, {args.lookups} lookups, unprofiled ====\n")
        out.write("\n".join(split.lines(args.lookups)) + "\n")
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(Counter(started).items()))
        out.write(f"  threads started: {len(started)} ({kinds or 'none'})\n\n")

        pool_profile = cProfile.Profile()
        pool_lock = threading.Lock()

        def profiled_run(self: plan.Call, *call_args: object) -> object:
            # One call at a time on the pool's threads: a profiler follows one thread.
            with pool_lock:
                return pool_profile.runcall(run, self, *call_args)

        request_profile = cProfile.Profile()
        plan.Call.run = profiled_run  # type: ignore[method-assign]
        try:
            request_profile.enable()
            for n in range(args.lookups):
                look_up(args.lookups + n)
            request_profile.disable()
        finally:
            plan.Call.run = run  # type: ignore[method-assign]
        for title, profile in (("request thread", request_profile), ("pool", pool_profile)):
            if args.dump:
                profile.dump_stats(Path(args.dump) / f"{title.split()[0]}.prof")
            stats = pstats.Stats(profile, stream=out)
            out.write(f"==== cProfile, {title}: {args.lookups} lookups ====\n")
            for key in args.sort.split(","):
                stats.sort_stats(key).print_stats(args.top)
        print(out.getvalue())  # noqa: T201 - a command-line report
        app.extensions["lookup"].pool.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
