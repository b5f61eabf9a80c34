"""Proxy mode under real gunicorn: a user name the proxy sends in UTF-8 is the name the desk
shows and audits, not its latin-1 misreading."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from bench import harness
from tests.conftest import normalize_spaces, sandbox_config

NAME = "jürgen.müller"


@pytest.fixture(scope="module")
def proxied(sandbox, tmp_path_factory) -> Iterator[str]:
    """gunicorn with gunicorn.conf.py in proxy mode, trusting loopback as the SSO proxy."""
    tmp_path = tmp_path_factory.mktemp("proxied-names")
    config = sandbox_config(sandbox)
    env = harness.app_env(
        tmp_path,
        (sandbox.url, sandbox.username, sandbox.password),
        config["CAPILLARY_PROGRAMS"],
        FLASK_AUTH_MODE="proxy",
        FLASK_AUTH_PROXY_TRUSTED="127.0.0.1",
        FLASK_AUTH_PROXY_AGENT_GROUP="staff",
    )
    harness.prepare_database(env, [])
    with harness.Processes() as procs:
        yield harness.start_gunicorn(procs, env, harness.free_port(), workers=1, threads=2)


def test_a_utf8_user_name_through_gunicorn(proxied):
    parts = urlsplit(proxied)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("GET", "/")
        # The bytes a proxy sends: UTF-8, as the header line carries them.
        conn.putheader("X-Forwarded-User", NAME.encode("utf-8"))
        conn.putheader("X-Forwarded-Groups", b"staff")
        conn.endheaders()
        response = conn.getresponse()
        body = response.read().decode("utf-8")
    finally:
        conn.close()
    assert response.status == 200
    page = BeautifulSoup(body, "html.parser")
    assert normalize_spaces(page.select_one("nav .staff-name").get_text()) == NAME
