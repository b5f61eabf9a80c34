"""The same staff, throttling and audit code against PostgreSQL, through the real migrations.

Needs PostgreSQL at 127.0.0.1:5432, database `test`, trust auth for user `postgres` (or the
current user). Each run works in its own schema and drops it afterwards. Without a server
these tests skip, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_login import login_user
from sqlalchemy import select, text

from app import create_app
from app.audit import AuditUnavailable, identifier_hash, record_lookup
from app.audit.models import AuditRecord
from app.auth.models import StaffUser
from app.extensions import db
from tests.conftest import ADMIN, AGENT, add_staff, sandbox_config, sign_in

pytestmark = pytest.mark.postgres

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
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": url})
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_app(pg_url: str, sandbox) -> Iterator[Flask]:
    """An app on the PostgreSQL schema with AGENT and ADMIN; tables emptied afterwards."""
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": pg_url})
    with app.app_context():
        add_staff(AGENT, "agent")
        add_staff(ADMIN, "admin")
    yield app
    with app.app_context():
        db.session.execute(
            text("TRUNCATE staff_user, login_attempt, audit_record RESTART IDENTITY")
        )
        db.session.commit()
        db.engine.dispose()


def test_the_url_is_driven_by_psycopg_3(pg_app):
    assert pg_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    with pg_app.app_context():
        assert db.engine.dialect.driver == "psycopg"


def test_the_migrations_match_the_models(pg_app):
    with pg_app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_cli_users_and_sign_in(pg_app):
    runner = pg_app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "pg.user"], input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    sign_in(pg_app.test_client(), "pg.user", "a long enough secret")
    assert runner.invoke(args=["users", "disable", "pg.user"]).exit_code == 0
    listing = runner.invoke(args=["users", "list"]).output
    assert "pg.user" in listing and "disabled" in listing
    response = pg_app.test_client().post(
        "/login", data={"username": "pg.user", "password": "a long enough secret"}
    )
    assert response.status_code == 200


def test_throttling_counts_in_the_database(pg_app):
    client = pg_app.test_client()
    for _ in range(5):
        client.post("/login", data={"username": AGENT, "password": "wrong"})
    # A different app server (another app object) sees the same lock.
    other = create_app(dict(pg_app.config))
    response = other.test_client().post(
        "/login", data={"username": AGENT, "password": "correct horse battery staple"}
    )
    assert response.status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_audit_records_filters_and_export(pg_app):
    with pg_app.test_request_context("/"):
        login_user(db.session.scalar(select(StaffUser).where(StaffUser.username == AGENT)))
        record_lookup(
            identifier_type="mobile",
            identifier_value="+91 98765 43210",
            member_id=9_000_000_001,
            program_scope="all",
            outcome="found",
            upstream_ms=88,
        )
        record = db.session.scalar(select(AuditRecord))
        assert record.at.tzinfo is not None
        assert record.at.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - record.at).total_seconds()) < 60
        assert record.identifier_hash == identifier_hash("919876543210")
        assert record.member_id == 9_000_000_001  # needs BIGINT

    admin = sign_in(pg_app.test_client(), ADMIN)
    with pg_app.app_context():
        digest = identifier_hash("919876543210")
    response = admin.get("/admin/audit.csv", query_string={"identifier_hash": digest})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["staff_username"], r["member_id"]) for r in rows] == [(AGENT, "9000000001")]
    response = admin.get("/admin/audit", query_string={"staff": ADMIN, "kind": "export"})
    assert response.status_code == 200
    with pg_app.app_context():
        kinds = db.session.scalars(select(AuditRecord.kind).order_by(AuditRecord.id)).all()
    assert kinds == ["lookup", "export"]


def test_audit_unavailable_when_the_table_is_gone(pg_app):
    with pg_app.test_request_context("/"):
        login_user(db.session.scalar(select(StaffUser).where(StaffUser.username == AGENT)))
        db.session.execute(text("ALTER TABLE audit_record RENAME TO audit_record_away"))
        db.session.commit()
        try:
            with pytest.raises(AuditUnavailable):
                record_lookup(
                    identifier_type="mobile",
                    identifier_value="9876543210",
                    member_id=None,
                    program_scope="default",
                    outcome="not_found",
                    upstream_ms=10,
                )
        finally:
            db.session.execute(text("ALTER TABLE audit_record_away RENAME TO audit_record"))
            db.session.commit()
