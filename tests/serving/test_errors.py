"""Error pages: CSRF failures, rate limits and crashes get plain pages, never a trace."""

from __future__ import annotations

import pytest

from app.auth.access import requires
from app.capillary import get_client
from app.extensions import limiter
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, normalize_spaces, sign_in, soup
from tests.support.capillary_support import RawServer, closed_port, read_request


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def _csrf_token(client, url="/login"):
    return soup(client.get(url)).select_one("input[name=csrf_token]")["value"]


def _csrf_sign_in(client, username):
    data = {"username": username, "password": TEST_PASSWORD, "csrf_token": _csrf_token(client)}
    assert client.post("/login", data=data).status_code == 302
    return client


def test_a_login_post_without_the_token_gets_a_friendly_400(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": AGENT, "password": TEST_PASSWORD})
    assert response.status_code == 400
    page = soup(response)
    assert normalize_spaces(page.select_one("h1").get_text()) == "Your form expired"
    assert "please try again" in page.select_one(".error-message").get_text()


def test_with_the_token_login_and_logout_work(csrf_app):
    client = _csrf_sign_in(csrf_app.test_client(), AGENT)
    # The sign-out button in the nav carries its own token.
    form = soup(client.get("/no-such-page")).select_one("form.logout-form")
    logout_token = form.select_one("input[name=csrf_token]")["value"]
    assert client.post("/logout").status_code == 400  # no token: refused
    assert client.post("/logout", data={"csrf_token": logout_token}).status_code == 302
    assert client.get("/no-such-page").status_code == 302


def test_audit_filter_links_need_no_token_but_the_filter_form_posts_one(csrf_app):
    client = _csrf_sign_in(csrf_app.test_client(), ADMIN)
    response = client.get("/admin/audit", query_string={"outcome": "found"})
    assert response.status_code == 200
    # Posted (a typed identifier must not go into a URL), so it carries a token.
    form = soup(response).select_one("form.audit-filters")
    assert form["method"] == "post"
    token = form.select_one("input[name=csrf_token]")["value"]
    assert client.post("/admin/audit", data={"outcome": "found"}).status_code == 400
    posted = client.post("/admin/audit", data={"outcome": "found", "csrf_token": token})
    assert posted.status_code == 303
    assert posted.location == "/admin/audit?outcome=found"


def test_rate_limits_get_a_friendly_429(make_app):
    app = make_app()

    @limiter.limit("2 per minute")
    def limited():
        return "ok"

    app.add_url_rule("/limited-for-test", "limited_for_test", requires("agent")(limited))
    client = sign_in(app.test_client(), AGENT)
    assert client.get("/limited-for-test").status_code == 200
    assert client.get("/limited-for-test").status_code == 200
    response = client.get("/limited-for-test")
    assert response.status_code == 429
    assert normalize_spaces(soup(response).select_one("h1").get_text()) == "Too many requests"
    # Counted per staff member, not per address: another user is not limited.
    other = sign_in(app.test_client(), ADMIN)
    assert other.get("/limited-for-test").status_code == 200


def test_the_lookup_limit_is_configurable(app):
    assert app.config["LOOKUP_RATE_LIMIT"] == "30 per minute"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_crash_shows_a_plain_500_and_no_trace(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom-for-test", "boom_for_test", requires("agent")(boom))
    client = sign_in(app.test_client(), AGENT)
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    heading = normalize_spaces(soup(response).select_one("h1").get_text())
    assert heading == "Sorry, something went wrong"
    assert "Unhandled RuntimeError" in caplog.text


def test_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert normalize_spaces(soup(response).select_one("h1").get_text()) == "Page not found"


def test_405_uses_the_generic_400_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert soup(response).select_one(".error-message")


def silent(conn, stopped):
    read_request(conn)
    stopped.wait()  # never answers while the test runs


@pytest.mark.parametrize(
    ("answer", "status", "heading"),
    [
        ("refused", 502, "The loyalty system failed"),
        ("silent", 504, "The loyalty system took too long"),
    ],
)
def test_an_upstream_error_no_view_acts_on_gets_one_page(make_app, answer, status, heading):
    with RawServer(silent) as raw:
        base = f"http://127.0.0.1:{closed_port()}/" if answer == "refused" else raw.url
        app = make_app(
            CAPILLARY_BASE_URL=base,
            CAPILLARY_READ_TIMEOUT=0.3,
            CAPILLARY_CALL_DEADLINE=0.6,
            CAPILLARY_RETRIES=0,
        )
        # A view that lets the client's typed error escape, as a new one might.
        app.add_url_rule(
            "/upstream-for-test",
            "upstream_for_test",
            requires("agent")(lambda: str(get_client().get_balance(1))),
        )
        response = sign_in(app.test_client(), AGENT).get("/upstream-for-test")
    assert response.status_code == status
    page = soup(response)
    assert normalize_spaces(page.select_one("h1").get_text()) == heading
    assert page.select_one("#upstream-explanation").get_text().strip()
    assert "Traceback" not in page.get_text()
