"""Production server settings: `gunicorn -c gunicorn.conf.py` (or `make serve`).

Threaded workers (gthread) suit this app: a lookup spends almost all its time waiting on the
upstream, so each process serves many requests at once on threads, and the processes use the
cores. Every value can be overridden from the environment (GUNICORN_*) or the command line.
"""

import os
import shutil
import tempfile
from pathlib import Path

# Loopback by default: put a TLS-terminating reverse proxy (or the SSO proxy) in front.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
wsgi_app = "app:create_app()"
worker_class = "gthread"
# One process per core: Python runs one thread at a time per process.
workers = int(os.environ.get("GUNICORN_WORKERS", os.cpu_count() or 2))
# I/O-bound: threads mostly wait on the upstream, so many per process.
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
# The bulkhead: at most threads - 4 lookups per process, so a few threads always stay free
# for /healthz, /readyz and cached pages even while every lookup waits on a hung upstream.
os.environ.setdefault("FLASK_LOOKUP_MAX_CONCURRENT", str(max(1, threads - 4)))
# One pooled database connection per thread, so a request never queues for one (the pool's
# default, 5 + 10, is smaller than the bulkhead). With several workers, keep workers x
# (threads + 4) below the server's max_connections.
os.environ.setdefault("FLASK_DATABASE_POOL_SIZE", str(threads))
# A request may hold a worker this long before it is killed: above LOOKUP_DEADLINE (4 s)
# plus rendering. The page deadline, not this, is what normally bounds a lookup.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, let lookups in flight finish (they are bounded by the page deadline).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Each worker keeps at most threads / 2 idle keep-alive connections (gthread keeps
# worker_connections - threads); past that it closes a connection after its response, so the
# client's next connection goes to whichever worker accepts first. Without it, clients that
# connected while one worker happened to be quickest (a proxy's pool, the benchmark's 32
# browsers) stayed on it: one worker did 73 % of the lookups while the other core idled, and
# past LOOKUP_MAX_CONCURRENT connections on one worker lookups got the busy page.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", threads + threads // 2))
# Recycle workers now and then so slow leaks cannot accumulate; jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
# No access log: its lines would carry member ids from deep-link paths. Errors to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# /metrics adds up every worker's figures from files in this directory (prometheus_client's
# multiprocess mode). Unset: a fresh temporary one per server start, removed at exit.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
_own_metrics_dir: str | None = None


def on_starting(server: object) -> None:
    """Before any worker starts: give the metrics a directory of their own, empty, so a
    restart does not add the last run's counts to this one's."""
    global _own_metrics_dir
    given = os.environ.get(METRICS_DIR_ENV)
    if not given:
        _own_metrics_dir = tempfile.mkdtemp(prefix="points-desk-metrics-")
        os.environ[METRICS_DIR_ENV] = _own_metrics_dir
        return
    directory = Path(given)
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server: object, worker: object) -> None:
    """A worker ended: its gauges leave the sums (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    """Remove the metrics directory made at start (one that was given stays)."""
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)


def post_worker_init(worker: object) -> None:
    """Move everything loaded at start (Flask, SQLAlchemy, Babel data, templates) out of the
    garbage collector's reach: a long timeline allocates thousands of objects, and each full
    collection would otherwise walk all of those long-lived ones too (it halved render time
    for a 5,000-entry member in bench/lookup_bench.py)."""
    import gc

    gc.collect()
    gc.freeze()


def pre_request(worker: object, req: object) -> None:
    """Mark a request whose SSO identity headers repeat, before gunicorn joins them into one
    value the app could not tell from a single header (app/auth/proxy_headers.py)."""
    from app.auth.proxy_headers import identity_header_names, mark_repeated

    config = getattr(getattr(worker, "wsgi", None), "config", {})
    req.headers = mark_repeated(req.headers, identity_header_names(config))


def when_ready(server: object) -> None:
    """Say at start-up that sign-in needs HTTPS when this server speaks plain http: the
    session cookie is Secure, so a browser on http:// never sends it back."""
    secure = os.environ.get("FLASK_SESSION_COOKIE_SECURE", "true").strip().lower()
    if secure in ("false", "0", "no") or getattr(server.cfg, "certfile", None):  # type: ignore[attr-defined]
        return
    server.log.warning(  # type: ignore[attr-defined]
        "Serving plain http on %s: sign-in needs HTTPS (the session cookie is Secure). "
        "Put a TLS proxy in front and set FLASK_PROXY_FIX_X_FOR=1; for a trial on this "
        "machine only, over http://127.0.0.1, set FLASK_SESSION_COOKIE_SECURE=false.",
        bind,
    )
