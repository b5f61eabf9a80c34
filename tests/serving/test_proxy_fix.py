"""PROXY_FIX_X_FOR: behind a reverse proxy, sign-in throttling counts the staff's addresses."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import LoginAttempt
from app.config_rules import ConfigError
from app.extensions import db
from tests.conftest import AGENT

PROXY = "10.0.0.5"
STAFF = "203.0.113.7"


def _failed_sign_in(app, forwarded_for: str) -> None:
    response = app.test_client().post(
        "/login",
        data={"username": AGENT, "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert response.status_code == 200


def _addresses(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(LoginAttempt.address)))


def test_off_by_default_so_a_forged_header_is_ignored(make_app):
    app = make_app()
    _failed_sign_in(app, STAFF)
    assert _addresses(app) == [PROXY]


def test_one_proxy_hop_gives_the_staff_address(make_app):
    app = make_app(PROXY_FIX_X_FOR=1)
    # The client forged an address; the proxy appended the real one. Only the last is taken.
    _failed_sign_in(app, f"198.51.100.99, {STAFF}")
    assert _addresses(app) == [STAFF]


def test_the_forwarded_scheme_is_believed_too(make_app):
    app = make_app(PROXY_FIX_X_FOR=1)
    response = app.test_client().get(
        "/login", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": PROXY}
    )
    assert "Strict-Transport-Security" in response.headers


def test_sso_proxy_mode_still_checks_the_peer_not_the_forwarded_address(make_app):
    app = make_app(PROXY_FIX_X_FOR=1, AUTH_MODE="proxy", AUTH_PROXY_TRUSTED=[PROXY])
    headers = {"X-Forwarded-User": "Sam.Sso", "X-Forwarded-For": STAFF}
    from_proxy = app.test_client().get("/", headers=headers, environ_base={"REMOTE_ADDR": PROXY})
    assert from_proxy.status_code == 200
    # Someone else naming the proxy's address in the header gains nothing.
    forged = app.test_client().get(
        "/", headers={**headers, "X-Forwarded-For": PROXY}, environ_base={"REMOTE_ADDR": STAFF}
    )
    assert forged.status_code == 403


@pytest.mark.parametrize("value", ["-1", "x"])
def test_a_bad_value_is_refused_at_start_up(make_app, value):
    with pytest.raises((ConfigError, ValueError)):
        make_app(PROXY_FIX_X_FOR=value)
