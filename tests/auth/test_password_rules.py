"""Changing one's own password: wrong current passwords are throttled like sign-in and logged
(no secrets); common, patterned and name-holding new passwords are refused, on the setup
link and in `flask users` too."""

from __future__ import annotations

import logging

import pytest

from app.auth import staffing
from tests.conftest import AGENT, TEST_PASSWORD, sign_in, soup

NEW_PASSWORD = "another long passphrase"
WRONG = "not my password at all"


def _change(client, current=TEST_PASSWORD, new=NEW_PASSWORD):
    return client.post(
        "/account/password", data={"current": current, "password": new, "repeat": new}
    )


def test_wrong_current_passwords_lock_like_sign_in_and_are_logged(make_app, caplog):
    app = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
    client = sign_in(app.test_client(), AGENT)
    caplog.set_level(logging.INFO, logger="app.auth")
    for _ in range(3):
        assert _change(client, current=WRONG).status_code == 400
    # The fourth try is refused unchecked, even with the right current password.
    refused = _change(client)
    assert refused.status_code == 429
    error = soup(refused).select_one("#current-error").get_text(strip=True)
    assert error.startswith("Too many failed attempts to sign in.")
    # And signing in is locked too: the same count.
    assert (
        app.test_client().post("/login", data={"username": AGENT, "password": TEST_PASSWORD})
    ).status_code == 429
    lines = [r.getMessage() for r in caplog.records if r.name == "app.auth.account_views"]
    assert (
        lines.count(f"Wrong current password on a password change by {AGENT} from 127.0.0.1") == 3
    )
    assert f"Password change refused while locked: {AGENT} from 127.0.0.1" in lines
    for record in caplog.records:
        assert WRONG not in record.getMessage() and TEST_PASSWORD not in record.getMessage()


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("aaaaaaaaaaaa", "That password is a repeated or sequential pattern: choose another."),
        ("123456789012", "That password is a repeated or sequential pattern: choose another."),
        ("abcabcabcabc", "That password is a repeated or sequential pattern: choose another."),
        ("Password1234!", "That password is one of the most common: choose another."),
        ("qwertyuiop12", "That password is one of the most common: choose another."),
        (f"{AGENT} 2026!", "A password must not contain your user name."),
        ("my name is ALICE, ok", "A password must not contain your user name."),
    ],
)
def test_easy_new_passwords_are_refused(client, new, message):
    response = _change(client, new=new)
    assert response.status_code == 400
    assert soup(response).select_one("#password-error").get_text(strip=True) == message


def test_a_good_new_password_is_still_taken(client):
    assert _change(client).status_code == 303


def test_the_setup_link_refuses_them_too(app):
    with app.app_context():
        _, token = staffing.add("new.person", "agent")
    newcomer = app.test_client()
    path = f"/welcome/{token}"
    weak = newcomer.post(path, data={"password": "new.person12", "repeat": "new.person12"})
    assert weak.status_code == 400
    assert soup(weak).select_one("#password-error").get_text(strip=True) == (
        "A password must not contain your user name."
    )
    good = newcomer.post(path, data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert good.status_code == 303


def test_the_cli_refuses_them_too(app):
    result = app.test_cli_runner().invoke(args=["users", "add", "dave"], input="111111111111\n")
    assert result.exit_code != 0
    assert "repeated or sequential pattern" in result.output
