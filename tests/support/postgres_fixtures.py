"""PostgreSQL fixtures (pg_server, pg_url, pg_app), registered for every test by conftest.

Need PostgreSQL at 127.0.0.1:5432, database `test`, trust auth for user `postgres` (or the
current user). Each run works in its own schema and drops it afterwards. Without a server
the tests that use them skip, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator

import flask_migrate
import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.clock import FrozenClock
from app.extensions import db
from tests.conftest import ADMIN, AGENT, FROZEN_AT, add_staff, sandbox_config

HOST, PORT, DATABASE = "127.0.0.1", 5432, "test"

HOW_TO_RUN = (
    f"PostgreSQL did not answer at {HOST}:{PORT} (database {DATABASE!r}, trust auth for user "
    "'postgres' or the current user). Start it and create the database "
    "(e.g. `service postgresql start && createdb -h 127.0.0.1 -U postgres test`), then run "
    "`.venv/bin/python -m pytest -m postgres`."
)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """A libpq URL for the test database, or skip (fail in CI) when there is none."""
    errors = []
    for user in dict.fromkeys(("postgres", getpass.getuser())):
        url = f"postgresql://{user}@{HOST}:{PORT}/{DATABASE}"
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return url
        except psycopg.Error as exc:
            errors.append(f"{user}: {str(exc).strip()}")
    message = f"{HOW_TO_RUN} Tried: {'; '.join(errors)}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url(pg_server: str, sandbox) -> Iterator[str]:
    """A fresh schema for this run, migrated with the real migrations; dropped at the end."""
    schema = f"points_desk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{pg_server}?options=-csearch_path%3D{schema}"
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": url}, clock=FrozenClock(FROZEN_AT))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_app(pg_url: str, sandbox, clock: FrozenClock) -> Iterator[Flask]:
    """An app on the PostgreSQL schema with AGENT and ADMIN; tables emptied afterwards."""
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": pg_url}, clock=clock)
    with app.app_context():
        add_staff(AGENT, "agent")
        add_staff(ADMIN, "admin")
    yield app
    with app.app_context():
        db.session.execute(
            text(
                "TRUNCATE staff_user, login_attempt, audit_record, staff_event, staff_preference, "
                "lookup_receipt "
                "RESTART IDENTITY"
            )
        )
        # The chain starts afresh with the emptied trail: the next write makes a new signed head.
        db.session.execute(text("DELETE FROM audit_chain_head"))
        db.session.commit()
        db.engine.dispose()
