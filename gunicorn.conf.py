"""Production server settings: `gunicorn -c gunicorn.conf.py` (or `make serve`).

Threaded workers (gthread) suit this app: a lookup spends almost all its time waiting on the
upstream, so each process serves many requests at once on threads, and the processes use the
cores. Every value can be overridden from the environment (GUNICORN_*) or the command line.
"""

import os

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
# A request may hold a worker this long before it is killed: above LOOKUP_DEADLINE (20 s)
# plus rendering. The page deadline, not this, is what normally bounds a lookup.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, let lookups in flight finish (they are bounded by the page deadline).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so slow leaks cannot accumulate; jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
# No access log: its lines would carry member ids from deep-link paths. Errors to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker: object) -> None:
    """Move everything loaded at start (Flask, SQLAlchemy, Babel data, templates) out of the
    garbage collector's reach: a long timeline allocates thousands of objects, and each full
    collection would otherwise walk all of those long-lived ones too (it halved render time
    for a 5,000-entry member in bench/lookup_bench.py)."""
    import gc

    gc.collect()
    gc.freeze()
