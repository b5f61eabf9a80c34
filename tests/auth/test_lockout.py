"""Sign-in lockouts nobody else can cause for long: the address slow-down, unlocking, and
failed sign-ins logged with a masked user name."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.auth import staffing, throttle
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, normalize_spaces, soup

OFFICE = {"REMOTE_ADDR": "203.0.113.9"}


def _login(client, username, password=TEST_PASSWORD, env=None):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base=env or {}
    )


def _error_text(response) -> str:
    box = soup(response).select_one(".login-error")
    return normalize_spaces(box.get_text()) if box else ""


def test_a_right_password_gets_in_from_a_busy_address_after_the_slow_down(app, clock):
    guesser = app.test_client()
    for n in range(20):
        _login(guesser, f"guess{n}", "wrong password", OFFICE)
    colleague = app.test_client()
    slowed = _login(colleague, AGENT, env=OFFICE)
    assert slowed.status_code == 429
    assert "Wait 10 seconds" in _error_text(slowed)

    clock.advance(timedelta(seconds=10))
    assert _login(colleague, AGENT, env=OFFICE).status_code == 302
    # The guesser gets one checked attempt per delay, not twenty a second.
    assert _login(guesser, "guess99", "wrong password", OFFICE).status_code == 429


def test_a_wrong_password_after_the_slow_down_is_checked_and_counted(app, clock):
    guesser = app.test_client()
    for n in range(20):
        _login(guesser, f"guess{n}", "wrong password", OFFICE)
    clock.advance(timedelta(seconds=10))
    response = _login(guesser, ADMIN, "wrong password", OFFICE)
    assert response.status_code == 200
    assert "not right" in _error_text(response)


def test_unlock_lets_a_locked_account_sign_in_at_once(app, anon_client):
    for _ in range(5):
        _login(anon_client, ADMIN, "wrong password")
    assert _login(anon_client, ADMIN).status_code == 429
    with app.app_context():
        assert throttle.unlock(ADMIN.upper()) == 5
    assert _login(anon_client, ADMIN).status_code == 302


def test_flask_users_unlock(app, anon_client):
    for _ in range(5):
        _login(anon_client, AGENT, "wrong password")
    assert _login(anon_client, AGENT).status_code == 429
    result = app.test_cli_runner().invoke(args=["users", "unlock", AGENT])
    assert result.exit_code == 0, result.output
    assert f"Unlocked {AGENT} (5 failed sign-ins cleared)" in result.output
    assert _login(anon_client, AGENT).status_code == 302


def test_flask_users_unlock_names_an_unknown_account(app):
    result = app.test_cli_runner().invoke(args=["users", "unlock", "nobody"])
    assert result.exit_code != 0
    assert "no staff account called 'nobody'" in result.output


def test_a_password_typed_as_the_user_name_stays_out_of_the_log(anon_client, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(6):
        _login(anon_client, TEST_PASSWORD, "whatever was typed")
    texts = [record.getMessage() for record in caplog.records]
    assert not [text for text in texts if TEST_PASSWORD in text]
    failed = [text for text in texts if text.startswith("Failed sign-in for")]
    assert failed and failed[0].startswith(f"Failed sign-in for c*** ({len(TEST_PASSWORD)} ")
    assert [text for text in texts if text.startswith("Sign-in refused while locked: c***")]


def test_flask_users_unlock_lifts_an_admins_lock(app, admin_client, anon_client):
    # The staff pages' lock and the shell's unlock are one rule: the shell lifts it too.
    with app.app_context():
        user = staffing.find(AGENT)
        staffing.lock(user)
    assert _login(anon_client, AGENT).status_code != 302
    result = app.test_cli_runner().invoke(args=["users", "unlock", AGENT])
    assert result.exit_code == 0, result.output
    assert _login(anon_client, AGENT).status_code == 302


def test_flask_users_unlock_says_when_nothing_is_locked(app):
    result = app.test_cli_runner().invoke(args=["users", "unlock", AGENT])
    assert result.exit_code == 1
    assert f"{AGENT} is not locked." in result.output
