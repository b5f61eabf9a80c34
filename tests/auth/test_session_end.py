"""Signing out ends the session on the server, and no session outlives SESSION_MAX_HOURS."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import normalize_spaces, soup

MEMBER = "/members/700000001"


def _copy_of_cookie(app, client):
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client):
    assert client.get(MEMBER).status_code == 200
    stolen = _copy_of_cookie(app, client)
    assert client.post("/logout").status_code == 302

    replayed = stolen.get(MEMBER)
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")
    assert stolen.get("/").status_code == 302


def test_a_session_ends_after_its_maximum_lifetime_however_busy(client, clock):
    for _ in range(24):  # 24 * 29 min = 11 h 36 min, never idle long enough to time out
        clock.advance(timedelta(minutes=29))
        assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=29))  # 12 h 5 min after signing in
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"])
    assert "at most 12 hours" in normalize_spaces(soup(page).select_one(".flash").get_text())
    assert client.get("/").status_code == 302  # and the session really is gone


def test_session_max_hours_is_configurable(make_client, clock):
    client = make_client(SESSION_MAX_HOURS=1)
    clock.advance(timedelta(minutes=29))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=30))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=2))
    assert client.get("/").status_code == 302
