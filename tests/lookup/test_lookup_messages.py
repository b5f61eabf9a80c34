"""Messages around the member page: a bad date range, and signing in over plain http."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.sandbox import data as demo
from tests.conftest import normalize_spaces, soup

MEMBER = demo.MEMBER_MULTI_PROGRAM


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        (
            {"from": "2027-13-01"},
            "start_date",
            "The start date is not a date: write it as YYYY-MM-DD.",
        ),
        ({"to": "31/12/2027"}, "end_date", "The end date is not a date: write it as YYYY-MM-DD."),
        (
            {"from": "2027-02-01", "to": "2027-01-01"},
            "end_date",
            "The end date must be on or after the start date.",
        ),
        ({"to": "2400-01-01"}, "end_date", "The end date must be within 100 years from today."),
    ],
)
def test_a_bad_date_range_is_a_form_error_on_the_member_page(client, upstream, query, field, says):
    response = client.get(f"/members/{MEMBER}", query_string={"program": "all", **query})
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("#member-id").get_text() == str(MEMBER)
    assert page.select_one("#bad-link-message") is None
    assert normalize_spaces(page.select_one(f"#view-form #{field}-error").get_text()) == says
    box = page.select_one(f"#view-form #{field}")
    assert box["aria-invalid"] == "true"
    assert normalize_spaces(page.select_one("#view-form-error").get_text()) == (
        "These dates could not be used, so the figures below are for all dates. "
        "Correct them and press Show."
    )
    # The figures are there, for every date, and the program of the link is kept.
    assert page.select_one("#scope").get_text() == "All programs"
    assert page.select_one("#date-range") is None and page.select("#answer-next")
    # A date-shaped text is back in its box to be corrected.
    typed = query.get("from" if field == "start_date" else "to")
    if "/" not in typed:
        assert box["value"] == typed


def test_a_bad_program_in_a_link_still_cannot_be_opened(client, upstream):
    response = client.get(f"/members/{MEMBER}", query_string={"program": "9999", "from": "x"})
    assert response.status_code == 400
    assert "not one Points Desk knows" in soup(response).select_one("#bad-link-message").get_text()


def test_sign_in_over_http_says_this_server_needs_https(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    page = soup(app.test_client().get("/login"))
    notice = page.select_one("#https-needed")
    assert normalize_spaces(notice.select_one(".notice-title").get_text()) == (
        "This server needs HTTPS for signing in."
    )
    assert [code.get_text() for code in notice.select("code")] == [
        "PROXY_FIX_X_FOR",
        "FLASK_SESSION_COOKIE_SECURE=false",
    ]
    over_https = soup(app.test_client().get("/login", base_url="https://localhost"))
    assert over_https.select_one("#https-needed") is None


def test_sign_in_without_a_secure_cookie_says_nothing_about_https(make_app):
    app = make_app(SESSION_COOKIE_SECURE=False)
    assert soup(app.test_client().get("/login")).select_one("#https-needed") is None


GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.mark.parametrize(
    ("env", "certfile", "warns"),
    [
        ({}, None, True),
        ({"FLASK_SESSION_COOKIE_SECURE": "false"}, None, False),
        ({}, "c.pem", False),
    ],
)
def test_make_serve_says_sign_in_needs_https(monkeypatch, caplog, env, certfile, warns):
    monkeypatch.delenv("FLASK_SESSION_COOKIE_SECURE", raising=False)
    # The file sets this with setdefault: set here, it is undone after the test.
    monkeypatch.setenv("FLASK_LOOKUP_MAX_CONCURRENT", "28")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    conf = runpy.run_path(str(GUNICORN_CONF))
    server = SimpleNamespace(
        cfg=SimpleNamespace(certfile=certfile), log=logging.getLogger("gunicorn.test")
    )
    with caplog.at_level(logging.WARNING, logger="gunicorn.test"):
        conf["when_ready"](server)
    said = [r.getMessage() for r in caplog.records if r.name == "gunicorn.test"]
    if warns:
        assert len(said) == 1 and "sign-in needs HTTPS" in said[0]
        assert "FLASK_SESSION_COOKIE_SECURE=false" in said[0]
    else:
        assert said == []
