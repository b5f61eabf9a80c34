"""Security headers on every response; HSTS only over https; no caching of pages."""

from __future__ import annotations

import pytest

from tests.conftest import soup

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("anon_client", "/login", 200),
        ("anon_client", "/healthz", 200),
        ("anon_client", "/admin/audit", 302),
        ("client", "/admin/audit", 403),
        ("client", "/no-such-page", 404),
        ("admin_client", "/admin/audit", 200),
        ("admin_client", "/admin/staff", 200),
        ("admin_client", "/admin/audit.csv", 200),
    ],
)
def test_every_response_has_the_headers(request, who, url, status):
    response = request.getfixturevalue(who).get(url)
    assert response.status_code == status
    headers = response.headers
    assert headers["Content-Security-Policy"] == EXPECTED_CSP
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers


def test_static_files_may_be_cached_but_still_get_the_headers(anon_client):
    with anon_client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert response.headers.get("Cache-Control") != "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == EXPECTED_CSP


def test_hsts_only_over_https(app):
    response = app.test_client().get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = app.test_client().get("/healthz")
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("anon_client", "/login"),
        ("admin_client", "/admin/audit"),
        ("admin_client", "/admin/staff"),
        ("client", "/admin/staff"),
        ("client", "/no-such-page"),
    ],
)
def test_pages_have_no_inline_script_or_style(request, who, url):
    page = soup(request.getfixturevalue(who).get(url))
    assert not page.select("style")
    assert not page.select("[style]")
    for script in page.select("script"):
        assert script.get("src"), "inline <script>"
    for tag in page.find_all(True):
        assert not any(attr.startswith("on") for attr in tag.attrs), tag.name
    assert page.select_one("link[rel=stylesheet]")["href"].startswith("/static/")
