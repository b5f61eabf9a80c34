"""A database connection that dies before the request ends (PostgreSQL restarted under a
busy desk) never turns the answer into a 500, and no log line names the member or a setup
token: on real PostgreSQL, the request's own server process is ended from outside."""

from __future__ import annotations

import logging
import time

import psycopg
import pytest
from sqlalchemy import text

from app import log_redaction
from app.extensions import db
from app.sandbox import data as demo
from tests.conftest import AGENT, sign_in, soup

MEMBER = demo.MEMBER_MULTI_PROGRAM


def _end_own_backend_after_the_view(app, pg_server: str) -> tuple[list[bool], list[int]]:
    """While switched on, after each view end this request's PostgreSQL server process, as a
    restart would."""
    on: list[bool] = []
    ended: list[int] = []

    @app.after_request
    def end_backend(response):
        if not on:
            return response
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(100):
                gone = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()[0]
                if not gone:
                    break
                time.sleep(0.02)
        ended.append(pid)
        return response

    return on, ended


@pytest.mark.postgres
def test_a_connection_lost_at_the_end_of_a_member_page_is_not_a_500(
    pg_app, pg_server, upstream, caplog
):
    on, ended = _end_own_backend_after_the_view(pg_app, pg_server)
    client = sign_in(pg_app.test_client(), AGENT)
    on.append(True)
    caplog.set_level(logging.INFO)

    response = client.get(f"/members/{MEMBER}")

    assert ended
    assert response.status_code == 200
    assert soup(response).select_one("#member-id").get_text() == str(MEMBER)
    lost = [r for r in caplog.records if r.name == "app.database_errors"]
    # One line, the failure's classes only (psycopg's name for a server ending the connection).
    assert [r.getMessage() for r in lost] == [
        "Database connection lost while ending a request (OperationalError: AdminShutdown)"
    ]
    for record in caplog.records:
        assert str(MEMBER) not in record.getMessage(), record.getMessage()
    # The next request gets a working connection.
    on.clear()
    assert client.get(f"/members/{MEMBER}").status_code == 200


@pytest.mark.parametrize("logger_name", ["gunicorn.error", "gunicorn.access", "app", "werkzeug"])
def test_request_paths_are_redacted_in_every_logger_that_writes_them(logger_name, caplog):
    log_redaction.install()
    caplog.set_level(logging.INFO, logger=logger_name)
    logging.getLogger(logger_name).error("Error handling request %s", f"/members/{MEMBER}?x=1")
    logging.getLogger(logger_name).error("Exception on /welcome/s3cr3t-token [POST]")
    messages = [r.getMessage() for r in caplog.records if r.name == logger_name]
    assert messages == [
        "Error handling request /members/{id}?x=1",
        "Exception on /welcome/{token} [POST]",
    ]
