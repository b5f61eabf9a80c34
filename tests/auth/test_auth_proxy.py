"""AUTH_MODE=proxy: the SSO proxy's headers are believed only from the proxy's address."""

from __future__ import annotations

import pytest

from app.config_rules import ConfigError
from tests.conftest import normalize_spaces, soup

PROXY = "10.0.0.5"
HEADERS = {"X-Forwarded-User": "Sam.Sso", "X-Forwarded-Groups": "staff, points-admins"}


@pytest.fixture
def proxy_app(make_app):
    return make_app(
        AUTH_MODE="proxy",
        AUTH_PROXY_TRUSTED=[PROXY, "192.168.10.0/24"],
        AUTH_PROXY_ADMIN_GROUP="points-admins",
    )


def _get(app, url, *, address=PROXY, headers=None):
    return app.test_client().get(url, headers=headers or {}, environ_base={"REMOTE_ADDR": address})


def test_headers_from_the_proxy_sign_the_user_in(proxy_app):
    response = _get(proxy_app, "/admin/staff", headers=HEADERS)
    assert response.status_code == 200
    nav = soup(response).select_one("nav.site-nav")
    assert normalize_spaces(nav.select_one(".staff-name").get_text()) == "Sam.Sso"
    # The proxy owns sign-out: there is no local sign-out button.
    assert not nav.select("form.logout-form")


def test_a_trusted_network_works_too(proxy_app):
    assert (
        _get(proxy_app, "/admin/staff", address="192.168.10.77", headers=HEADERS).status_code == 200
    )


def test_members_outside_the_admin_group_are_agents(proxy_app):
    headers = {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "staff"}
    assert _get(proxy_app, "/admin/staff", headers=headers).status_code == 403
    assert _get(proxy_app, "/no-such-page", headers=headers).status_code == 404


@pytest.mark.parametrize("address", ["203.0.113.9", "10.0.0.6", "127.0.0.1"])
def test_the_same_headers_from_anyone_else_get_403(proxy_app, address):
    response = _get(proxy_app, "/admin/staff", address=address, headers=HEADERS)
    assert response.status_code == 403
    assert not soup(response).select("nav.site-nav")


def test_no_user_header_from_the_proxy_gets_403(proxy_app):
    assert _get(proxy_app, "/no-such-page").status_code == 403


def test_public_endpoints_need_no_headers(proxy_app):
    assert _get(proxy_app, "/healthz", address="203.0.113.9").status_code == 200


def test_the_login_page_is_not_used(proxy_app):
    response = _get(proxy_app, "/login", headers=HEADERS)
    assert response.status_code == 302


def test_an_agent_group_can_be_required(make_app):
    app = make_app(AUTH_MODE="proxy", AUTH_PROXY_TRUSTED=[PROXY], AUTH_PROXY_AGENT_GROUP="desk")
    outsider = {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "finance"}
    insider = {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "finance,desk"}
    assert _get(app, "/no-such-page", headers=outsider).status_code == 403
    assert _get(app, "/no-such-page", headers=insider).status_code == 404


def test_custom_header_names(make_app):
    app = make_app(
        AUTH_MODE="proxy",
        AUTH_PROXY_TRUSTED=PROXY,  # as it arrives from FLASK_AUTH_PROXY_TRUSTED
        AUTH_PROXY_USER_HEADER="X-Auth-Request-User",
    )
    assert _get(app, "/no-such-page", headers=HEADERS).status_code == 403
    headers = {"X-Auth-Request-User": "ann"}
    assert _get(app, "/no-such-page", headers=headers).status_code == 404


def test_a_local_session_cookie_means_nothing_in_proxy_mode(app, client, proxy_app):
    # A cookie signed with the same key by a local-mode app is not a proxy sign-in.
    cookie = client.get_cookie("session")
    other = proxy_app.test_client()
    other.set_cookie("session", cookie.value)
    response = other.get("/no-such-page", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403


def test_proxy_mode_without_a_trusted_address_refuses_to_start(make_app):
    with pytest.raises(ConfigError, match="AUTH_PROXY_TRUSTED"):
        make_app(AUTH_MODE="proxy")
