"""Staff sign-in: the global guard, the login form, throttling, redirects, timeouts, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth.access import LAST_SEEN_KEY, PUBLIC_ENDPOINTS, safe_next
from app.auth.models import LoginAttempt, StaffUser
from app.extensions import db
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, normalize_spaces, sign_in, soup


def _login(client, username, password=TEST_PASSWORD, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def _error_text(response) -> str:
    box = soup(response).select_one(".login-error")
    return normalize_spaces(box.get_text()) if box else ""


def _guarded_urls(app) -> list[str]:
    """One URL for every GET route that is not public, with dummy values for its arguments."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in rule.methods:
                continue
            urls.append(url_for(rule.endpoint, **{arg: 1 for arg in rule.arguments}))
    return urls


def test_every_page_but_the_public_ones_sends_anonymous_users_to_sign_in(app, anon_client):
    urls = _guarded_urls(app) + ["/no-such-page"]
    assert "/admin/audit" in urls and "/admin/staff" in urls
    for url in urls:
        response = anon_client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_public_endpoints_answer_without_sign_in(anon_client):
    assert anon_client.get("/healthz").status_code == 200
    with anon_client.get("/static/css/app.css") as static:
        assert static.status_code == 200
    page = anon_client.get("/login")
    assert page.status_code == 200
    form = soup(page).select_one("form.login-form")
    assert form["method"] == "post"
    assert form.select_one("input[name=username]")
    assert form.select_one("input[name=password][type=password]")


def test_anonymous_post_to_a_guarded_page_is_sent_to_sign_in(anon_client):
    response = anon_client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_sign_in_lands_on_the_next_page_and_shows_who_is_signed_in(app, anon_client):
    response = _login(anon_client, AGENT, query_string={"next": "/admin/staff?x=1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/staff?x=1"
    page = anon_client.get("/healthz")
    assert page.status_code == 200
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == AGENT))
        assert user.last_login_at is not None


def test_sign_in_without_next_goes_home(anon_client):
    response = _login(anon_client, AGENT)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_user_names_are_case_insensitive(anon_client):
    response = _login(anon_client, "  Agent.Alice ")
    assert response.status_code == 302


def test_nav_shows_the_user_and_admin_links_only_to_admins(client, admin_client):
    agent_nav = soup(client.get("/no-such-page")).select_one("nav.site-nav")
    assert normalize_spaces(agent_nav.select_one(".staff-name").get_text()) == AGENT
    assert not agent_nav.select("a[href='/admin/audit']")
    assert agent_nav.select_one("form.logout-form[method=post][action='/logout']")
    admin_nav = soup(admin_client.get("/no-such-page")).select_one("nav.site-nav")
    assert admin_nav.select_one("a[href='/admin/audit']")
    assert admin_nav.select_one("a[href='/admin/staff']")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (AGENT, "wrong password"),
        ("nobody.here", TEST_PASSWORD),
    ],
)
def test_bad_credentials_say_the_same_thing_whether_or_not_the_account_exists(
    anon_client, username, password
):
    response = _login(anon_client, username, password)
    assert response.status_code == 200
    assert "user name or password is not right" in _error_text(response)
    # The typed user name is kept, the password is not.
    page = soup(response)
    assert page.select_one("input[name=username]")["value"] == username
    assert page.select_one("input[name=password]")["value"] == ""
    assert anon_client.get("/admin/staff").status_code == 302


def test_empty_form_shows_field_errors(anon_client):
    response = anon_client.post("/login", data={"username": "", "password": ""})
    page = soup(response)
    assert page.select_one("#username-error")
    assert page.select_one("#password-error")


def test_a_disabled_account_cannot_sign_in(app, anon_client):
    with app.app_context():
        db.session.execute(
            update(StaffUser).where(StaffUser.username == AGENT).values(active=False)
        )
        db.session.commit()
    response = _login(anon_client, AGENT)
    assert response.status_code == 200
    assert "user name or password is not right" in _error_text(response)


def test_disabling_an_account_ends_its_open_sessions(app, client):
    assert client.get("/no-such-page").status_code == 404
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "disable", AGENT]).exit_code == 0
    response = client.get("/no-such-page")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_failed_attempts_lock_the_account_then_age_out(app, anon_client):
    for _ in range(5):
        assert _login(anon_client, AGENT, "wrong password").status_code == 200
    locked = _login(anon_client, AGENT)  # the right password, but locked
    assert locked.status_code == 429
    assert "Too many failed attempts" in _error_text(locked)
    # Another account from the same address is not locked by five failures.
    assert _login(app.test_client(), ADMIN).status_code == 302

    with app.app_context():
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at -= timedelta(minutes=16)
        db.session.commit()
    assert _login(anon_client, AGENT).status_code == 302


def test_the_lock_on_an_unknown_account_looks_the_same(anon_client):
    for _ in range(5):
        _login(anon_client, "nobody.here", "wrong password")
    response = _login(anon_client, "nobody.here", "wrong password")
    assert response.status_code == 429
    assert "Too many failed attempts" in _error_text(response)


def test_a_success_forgives_earlier_failures(anon_client):
    for _ in range(4):
        _login(anon_client, AGENT, "wrong password")
    assert _login(anon_client, AGENT).status_code == 302
    anon_client.post("/logout")
    for _ in range(4):
        _login(anon_client, AGENT, "wrong password")
    assert _login(anon_client, AGENT).status_code == 302


def test_failures_from_one_address_slow_that_address_for_every_account(app):
    attacker = app.test_client()
    env = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(20):
        _login(attacker, f"guess{n}", "wrong password", environ_base=env)
    # Even a right password is refused from that address for a few seconds...
    assert _login(attacker, AGENT, environ_base=env).status_code == 429
    # ...but not from another one.
    other = app.test_client()
    assert _login(other, AGENT, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302


@pytest.mark.parametrize(
    "hostile",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tevil",
        "///evil.example",
    ],
)
def test_next_never_leaves_the_site(anon_client, hostile):
    response = _login(anon_client, AGENT, query_string={"next": hostile})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/admin/audit?page=2", "/admin/audit?page=2"),
        ("/", "/"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/x", None),
        ("/ok\x00", None),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),  # still a path on this site
        ("", None),
        (None, None),
    ],
)
def test_safe_next(value, expected):
    assert safe_next(value) == expected


def test_the_login_form_keeps_a_safe_next_and_drops_a_hostile_one(anon_client):
    page = soup(anon_client.get("/login", query_string={"next": "/admin/audit"}))
    assert page.select_one("form.login-form")["action"] == "/login?next=/admin/audit"
    page = soup(anon_client.get("/login", query_string={"next": "//evil.example"}))
    assert page.select_one("form.login-form")["action"] == "/login"


def test_idle_sessions_expire_back_to_sign_in_with_a_message(app, client, clock):
    assert client.get("/no-such-page").status_code == 404  # still signed in
    clock.advance(timedelta(minutes=31))
    response = client.get("/admin/staff")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/staff"
    page = client.get(response.headers["Location"])
    assert "signed out after 30 minutes" in normalize_spaces(
        soup(page).select_one(".flash").get_text()
    )
    # And the session really is gone.
    assert client.get("/no-such-page").status_code == 302


def test_activity_keeps_the_session_alive(client, clock):
    clock.advance(timedelta(minutes=29))
    assert client.get("/no-such-page").status_code == 404
    with client.session_transaction() as session:
        assert session[LAST_SEEN_KEY] == int(clock.now().timestamp())
    clock.advance(timedelta(minutes=29))
    assert client.get("/no-such-page").status_code == 404  # 58 minutes in, never idle 30


def test_logout_ends_the_session(client):
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login")
    assert "You have signed out" in soup(page).select_one(".flash").get_text()
    assert client.get("/admin/staff").status_code == 302


def test_logout_is_post_only(client):
    assert client.get("/logout").status_code == 405


def test_signed_in_users_visiting_login_are_sent_on(client):
    response = client.get("/login")
    assert response.status_code == 302


def test_agents_get_403_on_admin_pages(client):
    for url in ("/admin/audit", "/admin/audit.csv", "/admin/staff"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert soup(response).select_one("h1").get_text() == "You cannot see this page"


def test_admins_see_the_staff_list(admin_client):
    response = admin_client.get("/admin/staff")
    assert response.status_code == 200
    rows = soup(response).select("table.staff-table tr.staff-row")
    names = [normalize_spaces(r.select_one(".staff-username").get_text()) for r in rows]
    assert names == [ADMIN, AGENT]
    roles = [normalize_spaces(r.select_one(".staff-role").get_text()) for r in rows]
    assert roles == ["admin", "agent"]


def test_session_cookie_flags(app, anon_client):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = _login(anon_client, AGENT)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_changing_the_password_ends_open_sessions(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", AGENT], input="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/admin/staff").status_code == 302
    sign_in(app.test_client(), AGENT, "a brand new password")


def test_signing_in_starts_a_fresh_session(app, anon_client):
    with anon_client.session_transaction() as session:
        session["planted"] = "by someone else"
    _login(anon_client, AGENT)
    with anon_client.session_transaction() as session:
        assert "planted" not in session


def test_the_sign_in_page_puts_the_cursor_in_the_user_name(anon_client):
    page = soup(anon_client.get("/login"))
    assert page.select_one("input#username").has_attr("autofocus")
    assert not page.select_one("input#password").has_attr("autofocus")
