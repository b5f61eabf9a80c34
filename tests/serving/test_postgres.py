"""The same staff, throttling and audit code against PostgreSQL, through the real migrations.

Needs PostgreSQL at 127.0.0.1:5432, database `test`, trust auth for user `postgres` (or the
current user). Each run works in its own schema and drops it afterwards. Without a server
these tests skip, except in CI (CI=true), where that is a failure. The hash chain's tamper
tests run on PostgreSQL from tests/audit/test_audit_chain.py (its `db_app` fixture).
"""

from __future__ import annotations

import csv
import io
import threading
import uuid

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_login import login_user
from sqlalchemy import select, text

from app import create_app
from app.audit import AuditUnavailable, chain, identifier_hash, record_lookup
from app.audit.models import AuditRecord
from app.auth import staffing
from app.auth.models import StaffUser
from app.extensions import db
from tests.conftest import ADMIN, AGENT, add_staff, sandbox_config, sign_in
from tests.support.audit_chain_helpers import verify, write_concurrently

pytestmark = pytest.mark.postgres


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
        assert record.at == pg_app.extensions["clock"].now()  # the app's clock, not the machine's
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
    # The filtered audit page view is audited too (issue 24 item 8).
    assert kinds == ["lookup", "export", "view"]


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


def test_app_servers_writing_at_once_never_fork_the_chain(pg_app):
    # Two app objects stand for two app servers, each with its own connection pool.
    other = create_app(dict(pg_app.config))
    try:
        writers = [
            threading.Thread(target=write_concurrently, args=(app, AGENT, 3, 8))
            for app in (pg_app, other)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
    finally:
        with other.app_context():
            db.engine.dispose()
    code, output = verify(pg_app)
    assert code == 0, output
    assert "48 record(s)" in output


def test_the_new_migration_goes_down_and_up_again(pg_server, sandbox):
    schema = f"points_desk_mig_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{pg_server}?options=-csearch_path%3D{schema}"
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": url})
    try:
        with app.app_context():
            flask_migrate.upgrade()
            flask_migrate.downgrade(revision="734b8369c4d1")
            columns = {
                row[0]
                for row in db.session.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = :s AND table_name = 'audit_record'"
                    ),
                    {"s": schema},
                )
            }
            assert "record_hash" not in columns and "reason" not in columns
            db.session.rollback()
            flask_migrate.upgrade()
            head = db.session.execute(text("SELECT last_hash FROM audit_chain_head")).scalar()
            assert head == chain.GENESIS
            db.session.close()
            db.engine.dispose()
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_two_admins_demoting_each_other_at_once_cannot_both_go(pg_app, pg_server):
    with pg_app.app_context():
        add_staff("admin.carol", "admin")
    other = create_app(dict(pg_app.config))  # a second app server
    outcome: list[object] = []

    def demote_bob_elsewhere() -> None:
        with other.app_context():
            try:
                staffing.change_role(staffing.find(ADMIN), "agent")
                outcome.append("demoted")
            except staffing.ChangeRefused as exc:
                outcome.append(exc)

    try:
        with pg_app.app_context():
            carol = staffing.find("admin.carol")
            staffing.check_allowed(carol, "role", "agent")  # holds the admins' rows
            racer = threading.Thread(target=demote_bob_elsewhere)
            racer.start()
            with psycopg.connect(pg_server, autocommit=True) as watcher:
                # Wait (on the server's word, not a timer) until the other one queues for them.
                waiting = 0
                while not waiting and racer.is_alive():
                    waiting = watcher.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    ).fetchone()[0]
            carol.role = "agent"
            db.session.commit()
            racer.join()
    finally:
        with other.app_context():
            db.engine.dispose()
    [result] = outcome
    assert isinstance(result, staffing.ChangeRefused), result
    with pg_app.app_context():
        assert staffing.find(ADMIN).role == "admin"
