"""Proxy mode: UTF-8 user names arrive as the proxy sent them (WSGI servers hand header bytes
over decoded as latin-1, PEP 3333), and the staff page lists no local accounts as if they
could sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.extensions import db
from tests.conftest import normalize_spaces, soup

PROXY = "10.0.0.5"
NAME = "jürgen.müller@example.com"


@pytest.fixture
def proxy_app(make_app):
    return make_app(
        AUTH_MODE="proxy", AUTH_PROXY_TRUSTED=[PROXY], AUTH_PROXY_ADMIN_GROUP="points-admins"
    )


def _as_a_wsgi_server_passes_it(text: str) -> str:
    """The header's UTF-8 bytes, decoded as latin-1: what gunicorn puts in the environ."""
    return text.encode("utf-8").decode("latin-1")


def _environ(user: str, groups: str = "staff") -> dict[str, str]:
    return {
        "REMOTE_ADDR": PROXY,
        "HTTP_X_FORWARDED_USER": _as_a_wsgi_server_passes_it(user),
        "HTTP_X_FORWARDED_GROUPS": groups,
    }


def test_a_utf8_user_name_is_shown_and_audited_as_sent(proxy_app, upstream):
    client = proxy_app.test_client()
    page = soup(client.get("/", environ_base=_environ(NAME)))
    assert normalize_spaces(page.select_one("nav .staff-name").get_text()) == NAME
    client.post(
        "/lookup",
        data={"identifier_type": "mobile", "identifier": "919800000001", "program": "all"},
        environ_base=_environ(NAME),
    )
    with proxy_app.app_context():
        assert db.session.scalars(select(AuditRecord.staff_username)).all() == [NAME]


def test_a_latin1_name_that_is_not_utf8_is_kept_as_decoded(proxy_app):
    environ = {**_environ("x"), "HTTP_X_FORWARDED_USER": "caf\xe9"}  # the single byte 0xE9
    page = soup(proxy_app.test_client().get("/", environ_base=environ))
    assert normalize_spaces(page.select_one("nav .staff-name").get_text()) == "café"


def test_the_staff_page_lists_no_local_accounts_in_proxy_mode(proxy_app):
    response = proxy_app.test_client().get(
        "/admin/staff", environ_base=_environ("sam.sso", "staff, points-admins")
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.select("table.staff-table") == []
    notice = normalize_spaces(page.select_one("#proxy-mode-notice").get_text())
    assert "The 2 local accounts kept here cannot sign in while it is on" in notice
