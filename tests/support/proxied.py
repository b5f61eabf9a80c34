"""A desk under real gunicorn in proxy mode, trusting loopback as the SSO proxy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import harness
from tests.conftest import sandbox_config


@contextmanager
def proxied_desk(sandbox, tmp_path: Path, *, threads: int, **settings: str) -> Iterator[str]:
    """gunicorn with gunicorn.conf.py, AUTH_MODE=proxy and these FLASK_ settings; its URL."""
    env = harness.app_env(
        tmp_path,
        (sandbox.url, sandbox.username, sandbox.password),
        sandbox_config(sandbox)["CAPILLARY_PROGRAMS"],
        FLASK_AUTH_MODE="proxy",
        FLASK_AUTH_PROXY_TRUSTED="127.0.0.1",
        FLASK_AUTH_PROXY_AGENT_GROUP="staff",
        **settings,
    )
    harness.prepare_database(env, [])
    with harness.Processes() as procs:
        yield harness.start_gunicorn(procs, env, harness.free_port(), workers=1, threads=threads)
