"""A database that cannot be reached: a 503 that says so within the request, one log line."""

from __future__ import annotations

import logging
import socket

import pytest

from app import create_app
from tests.conftest import AGENT, TEST_PASSWORD, normalize_spaces, sandbox_config, soup

HEADING = "The desk cannot reach its database"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dead_urls(tmp_path) -> dict[str, str]:
    return {
        "sqlite file in a missing folder": f"sqlite:///{tmp_path}/missing/points-desk.sqlite3",
        "postgresql port with nothing listening": (
            f"postgresql://postgres@127.0.0.1:{_free_port()}/test"
        ),
    }


def _dead_app(sandbox, clock, url: str):
    """The same app (same secret key, so the same session cookies) over a database that is
    not there: a server that is down, a file that cannot be opened."""
    return create_app({**sandbox_config(sandbox), "DATABASE_URL": url}, clock=clock)


def _with_session_of(app, signed_in):
    client = app.test_client()
    client.set_cookie("session", signed_in.get_cookie("session").value)
    return client


def _assert_clear_503(response, caplog) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = soup(response)
    assert normalize_spaces(page.select_one("h1").get_text()) == HEADING
    assert "Try again shortly" in normalize_spaces(page.select_one(".error-message").get_text())
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith("Database unreachable (OperationalError")
    assert lines[0].exc_info is None and "\n" not in lines[0].getMessage()


KINDS = ["sqlite file in a missing folder", "postgresql port with nothing listening"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", ["/", "/members/700000001", "/admin/audit", "/admin/staff"])
def test_signed_in_pages_answer_503_with_one_log_line(
    sandbox, clock, admin_client, tmp_path, caplog, kind, path
):
    dead = _dead_app(sandbox, clock, _dead_urls(tmp_path)[kind])
    client = _with_session_of(dead, admin_client)
    caplog.set_level(logging.INFO)
    caplog.clear()
    _assert_clear_503(client.get(path), caplog)


@pytest.mark.parametrize("kind", KINDS)
def test_signing_in_answers_503_too(sandbox, clock, tmp_path, caplog, kind):
    dead = _dead_app(sandbox, clock, _dead_urls(tmp_path)[kind])
    caplog.set_level(logging.INFO)
    caplog.clear()
    response = dead.test_client().post(
        "/login", data={"username": AGENT, "password": TEST_PASSWORD}
    )
    _assert_clear_503(response, caplog)


def test_pages_that_need_no_database_still_answer(sandbox, clock, tmp_path):
    dead = _dead_app(sandbox, clock, _dead_urls(tmp_path)[KINDS[1]])
    client = dead.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
