"""Proxy mode under real gunicorn: a user name the proxy sends in UTF-8 is the name the desk
shows and audits, not its latin-1 misreading."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.conftest import normalize_spaces
from tests.support.proxied import proxied_desk

NAME = "jürgen.müller"


@pytest.fixture(scope="module")
def proxied(sandbox, tmp_path_factory) -> Iterator[str]:
    """gunicorn with gunicorn.conf.py in proxy mode, trusting loopback as the SSO proxy."""
    with proxied_desk(sandbox, tmp_path_factory.mktemp("proxied-names"), threads=2) as url:
        yield url


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
