"""Signing out ends the session on the server, and no session outlives SESSION_MAX_HOURS."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AGENT, TEST_PASSWORD, add_staff, normalize_spaces, soup

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


def _sign_in_again(client, location: str, username: str = AGENT):
    """Follow the idle sign-out to the sign-in form and sign in there; return the redirect."""
    assert location.startswith("/login")
    flash = normalize_spaces(soup(client.get(location)).select_one(".flash").get_text())
    response = client.post(location, data={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return flash, response.headers["Location"]


def test_enter_after_the_idle_limit_comes_back_with_the_identifier_typed(app, client, clock):
    clock.advance(timedelta(minutes=31))
    typed = {"identifier_type": "auto", "identifier": "+91 98000 00001", "program": "all"}
    ended = client.post("/lookup", data=typed)
    assert ended.status_code == 302
    # Neither the sign-in link nor the cookie carries what was typed.
    assert "98000" not in ended.headers["Location"]
    assert "98000" not in client.get_cookie("session").value
    flash, back = _sign_in_again(client, ended.headers["Location"])
    assert flash.startswith("You were signed out after 30 minutes without activity.")
    assert back == "/"
    page = soup(client.get(back))
    assert page.select_one("#resumed")
    assert page.select_one("input#identifier")["value"] == "+91 98000 00001"
    assert page.select_one("#program option[selected]")["value"] == "all"
    # Once only: the next visit is an empty form.
    assert not soup(client.get("/")).select_one("input#identifier").get("value")


def test_refresh_after_the_idle_limit_comes_back_to_the_member_page(client, clock):
    clock.advance(timedelta(minutes=31))
    ended = client.post(f"{MEMBER}/refresh", query_string={"program": "890"})
    _, back = _sign_in_again(client, ended.headers["Location"])
    assert back == f"{MEMBER}?program=890"
    assert soup(client.get(back)).select_one("#member-id").get_text() == "700000001"


def test_someone_else_signing_in_on_that_browser_gets_nothing_typed(app, client, clock):
    with app.app_context():
        add_staff("agent.bob")
    clock.advance(timedelta(minutes=31))
    ended = client.post("/lookup", data={"identifier_type": "auto", "identifier": "EXT-1001"})
    _, back = _sign_in_again(client, ended.headers["Location"], "agent.bob")
    page = soup(client.get(back))
    assert page.select_one("#resumed") is None
    assert not page.select_one("input#identifier").get("value")


def test_one_minute_is_said_in_the_singular(make_client, clock):
    client = make_client(SESSION_IDLE_MINUTES=1)
    clock.advance(timedelta(minutes=2))
    flash, _ = _sign_in_again(client, client.get(MEMBER).headers["Location"])
    assert flash.startswith("You were signed out after 1 minute without activity.")
