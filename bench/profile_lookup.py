"""Where a lookup's milliseconds go: `python -m bench.profile_lookup [--lookups 200]`.

Runs the desk in this process (Flask's test client, the real sandbox over HTTP, a SQLite file
as the benchmark uses) and profiles a series of uncached lookups (POST, redirect and page)
with cProfile: first the request thread, then the upstream pool's threads (their calls,
profiled one by one as the pool runs them). Prints the top functions by own and cumulative
time. Bench only: the served app is never profiled.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from bench import harness
from bench.lookup_bench import AGENT, CLOCK, PROGRAMS, lookup_form


def main(argv: list[str] | None = None) -> int:
    """Profile uncached lookups in process and print where the time went."""
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

        def look_up(n: int) -> None:
            form = {**lookup_form(first_day + timedelta(days=n)), "csrf_token": token}
            response = client.post("/lookup", data=form, follow_redirects=True)
            if response.status_code != 200 or response.headers["X-Upstream-Calls"] != "0":
                raise RuntimeError(f"lookup {n} answered {response.status_code}")

        for n in range(20):  # warm: connections, templates, caches
            look_up(-100 - n)
        pool_profile = cProfile.Profile()
        pool_lock = threading.Lock()
        run = plan.Call.run

        def profiled_run(self: plan.Call, *call_args: object) -> object:
            # One call at a time on the pool's threads: a profiler follows one thread.
            with pool_lock:
                return pool_profile.runcall(run, self, *call_args)

        request_profile = cProfile.Profile()
        plan.Call.run = profiled_run  # type: ignore[method-assign]
        try:
            request_profile.enable()
            for n in range(args.lookups):
                look_up(n)
            request_profile.disable()
        finally:
            plan.Call.run = run  # type: ignore[method-assign]
        for title, profile in (("request thread", request_profile), ("pool", pool_profile)):
            if args.dump:
                profile.dump_stats(Path(args.dump) / f"{title.split()[0]}.prof")
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            out.write(f"==== {title}: {args.lookups} lookups ====\n")
            for key in args.sort.split(","):
                stats.sort_stats(key).print_stats(args.top)
            print(out.getvalue())  # noqa: T201 - a command-line report
        app.extensions["lookup"].pool.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
