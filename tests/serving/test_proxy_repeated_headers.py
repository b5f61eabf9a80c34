"""Proxy mode under gunicorn: a user or groups header sent twice is refused (403), because
gunicorn would join the lines into one value the app could not tell from the proxy's."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from app.auth.proxy_headers import REPEATED_HEADER, mark_repeated
from tests.support.proxied import proxied_desk

NAMES = ("X-Forwarded-User", "X-Forwarded-Groups")


@pytest.fixture(scope="module")
def proxied(sandbox, tmp_path_factory) -> Iterator[str]:
    """gunicorn with gunicorn.conf.py in proxy mode, trusting loopback as the SSO proxy."""
    tmp_path = tmp_path_factory.mktemp("proxied")
    with proxied_desk(
        sandbox, tmp_path, threads=4, FLASK_AUTH_PROXY_ADMIN_GROUP="pd-admins"
    ) as url:
        yield url


def _get(base: str, path: str, lines: list[tuple[str, str]]) -> int:
    """GET with exactly these header lines, repeats included."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("GET", path)
        for name, value in lines:
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def test_one_line_each_signs_in(proxied):
    lines = [("X-Forwarded-User", "sam"), ("X-Forwarded-Groups", "staff, pd-admins")]
    assert _get(proxied, "/admin/staff", lines) == 200


def test_a_groups_line_added_next_to_the_proxys_is_refused(proxied):
    lines = [
        ("X-Forwarded-User", "sam"),
        ("X-Forwarded-Groups", "staff"),
        ("X-Forwarded-Groups", "pd-admins"),
    ]
    assert _get(proxied, "/admin/staff", lines) == 403
    assert _get(proxied, "/", lines) == 403  # refused outright, not signed in as an agent


def test_a_second_user_line_is_refused(proxied):
    lines = [
        ("X-Forwarded-User", "sam"),
        ("x-forwarded-user", "admin"),
        ("X-Forwarded-Groups", "staff"),
    ]
    assert _get(proxied, "/", lines) == 403


def test_a_mark_sent_by_a_client_is_dropped(proxied):
    lines = [
        ("X-Forwarded-User", "sam"),
        ("X-Forwarded-Groups", "staff"),
        (REPEATED_HEADER, "X-FORWARDED-GROUPS"),
    ]
    assert _get(proxied, "/", lines) == 200


def test_mark_repeated_counts_names_case_blind():
    headers = [("X-FORWARDED-GROUPS", "a"), ("x-forwarded-groups", "b"), ("HOST", "h")]
    marked = mark_repeated(headers, NAMES)
    assert marked[-1] == (REPEATED_HEADER.upper(), "X-FORWARDED-GROUPS")
    assert mark_repeated(headers[1:], NAMES) == headers[1:]
