"""Start the sandbox and the app under gunicorn as real processes, and sign staff in.

Used by bench/lookup_bench.py and by the serving tests. Loopback only; every process started
here is stopped by stop() (also on failure, via the Processes context manager).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STAFF_PASSWORD = "throwaway-timing-password"  # noqa: S105 - a local account; no part of its name


def free_port() -> int:
    """A currently free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Child processes to stop, in reverse order, when the block ends."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(
        self, args: list[str], env: Mapping[str, str], **kwargs: object
    ) -> subprocess.Popen[bytes]:
        """Start one child process."""
        child = subprocess.Popen(args, env=dict(env), cwd=ROOT, **kwargs)  # noqa: S603
        self.children.append(child)
        return child

    def stop(self) -> None:
        """SIGTERM each child, then SIGKILL any still running after a few seconds."""
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(self.children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)
        self.children.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SandboxProcess:
    """The sandbox in its own process (bench/sandbox_main.py), its latency set over stdin."""

    def __init__(self, procs: Processes, latency_ms: float) -> None:
        self.child = procs.start(
            [sys.executable, "-m", "bench.sandbox_main", "--latency-ms", str(latency_ms)],
            os.environ,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
        )
        line = self._readline().split()
        if len(line) != 3:
            raise RuntimeError("the sandbox did not start")
        self.url, self.username, self.password = line

    @property
    def credentials(self) -> tuple[str, str, str]:
        """(url, username, password)."""
        return self.url, self.username, self.password

    def set_latency(self, latency_ms: float) -> None:
        """Change the injected latency per request."""
        self._command(f"latency {latency_ms}")

    def hang(self, target: str, seconds: float) -> None:
        """Every call to target ("balance" or "schedule") answers only after seconds."""
        self._command(f"fault slow {target} {seconds}")

    def clear_fault(self) -> None:
        """Answer every call normally again."""
        self._command("fault none")

    def stop(self) -> None:
        """Stop the sandbox: from now on its port refuses connections."""
        self.child.terminate()
        self.child.wait(timeout=10)

    def _command(self, line: str) -> None:
        assert self.child.stdin is not None
        self.child.stdin.write(f"{line}\n".encode())
        self.child.stdin.flush()
        if self._readline().strip() != "ok":
            raise RuntimeError(f"the sandbox did not take {line!r}")

    def _readline(self) -> str:
        assert self.child.stdout is not None
        return self.child.stdout.readline().decode()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The process ids of pid's children (gunicorn's workers), from /proc (Linux)."""
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
        return [int(child) for child in listing.read().split()]


def app_env(
    instance_dir: Path, sandbox: tuple[str, str, str], programs: Mapping[int, str], **extra: str
) -> dict[str, str]:
    """Environment for the app: a real upstream URL, a SQLite file, throwaway secrets."""
    url, username, password = sandbox
    env = {
        **os.environ,
        "FLASK_SECRET_KEY": "bench-secret-not-for-production",
        "FLASK_AUDIT_HASH_KEY": "bench-audit-key-not-for-production",
        "FLASK_DATABASE_URL": f"sqlite:///{instance_dir / 'points-desk.sqlite3'}",
        "FLASK_CAPILLARY_BASE_URL": url,
        "FLASK_CAPILLARY_AUTH": "basic",
        "FLASK_CAPILLARY_USERNAME": username,
        "FLASK_CAPILLARY_PASSWORD": password,
        "FLASK_CAPILLARY_PROGRAMS": json.dumps({str(k): v for k, v in programs.items()}),
        "FLASK_CAPILLARY_DEFAULT_PROGRAM": str(next(iter(programs))),
        "FLASK_CAPILLARY_CLUSTER_TIMEZONE": "Asia/Kolkata",
        # Plain http on loopback: the session cookie must not be Secure-only here.
        "FLASK_SESSION_COOKIE_SECURE": "false",
        "FLASK_LOOKUP_RATE_LIMIT": "100000 per minute",
        "FLASK_MEMBER_PAGE_RATE_LIMIT": "100000 per minute",
        "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }
    return env


def prepare_database(env: Mapping[str, str], staff: list[str]) -> None:
    """Migrate the database and create agent accounts through the real CLI commands, all in
    one process (bench/prepare_db.py)."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.prepare_db", *staff],
        env=dict(env),
        cwd=ROOT,
        input=(STAFF_PASSWORD + "\n").encode(),
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{done.stderr.decode()}")


def start_gunicorn(
    procs: Processes,
    env: Mapping[str, str],
    port: int,
    *,
    workers: int,
    threads: int,
    wsgi_app: str | None = None,
) -> str:
    """The app (or wsgi_app, e.g. the benchmark's floor) under gunicorn with the repository's
    gunicorn.conf.py; returns its base URL."""
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_LOG_LEVEL": "warning",
    }
    args = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")]
    procs.start([*args, wsgi_app] if wsgi_app else args, env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return base
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start within 30 s")


def start_two_servers(
    procs: Processes, env: Mapping[str, str], *, workers: int, threads: int
) -> tuple[str, str]:
    """Two app servers under gunicorn, each on its own loopback port, from one environment:
    for a layout like production's, env points both at one PostgreSQL database
    (FLASK_DATABASE_URL) and one Redis (FLASK_CACHE_REDIS_URL, FLASK_RATELIMIT_STORAGE_URI);
    they share the secret and audit keys, so a sign-in on one is good on the other. Each
    has its own metrics directory (a shared one would be emptied by the second start).
    Returns both base URLs."""
    env = {key: value for key, value in env.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    first = start_gunicorn(procs, env, free_port(), workers=workers, threads=threads)
    second = start_gunicorn(procs, env, free_port(), workers=workers, threads=threads)
    return first, second


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_RE.search(html)
    if found is None:
        raise RuntimeError("no csrf_token on the page")
    return found.group(1)


def signed_in(base: str, username: str) -> requests.Session:
    """A requests session signed in through the real login form."""
    session = requests.Session()
    login = session.get(base + "/login", timeout=10)
    response = session.post(
        base + "/login",
        data={
            "username": username,
            "password": STAFF_PASSWORD,
            "csrf_token": csrf_token(login.text),
        },
        timeout=10,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed with {response.status_code}")
    return session
