"""The audit trail's hash chain: `flask audit verify` names the first broken record, on SQLite
and on PostgreSQL (the `db_app` tests); `flask audit prune` leaves it verifiable from the
first kept record."""

from __future__ import annotations

from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import event, inspect, select, text

from app import create_app
from app.audit import chain
from app.audit.models import AuditChainHead, AuditRecord
from app.auth.models import StaffEvent
from app.extensions import db
from tests.conftest import AGENT, add_staff, sandbox_config
from tests.support.audit_chain_helpers import execute, verify, write_concurrently, write_lookups


@pytest.fixture(
    params=[
        pytest.param("app", id="sqlite"),
        # The postgres mark lets `-m postgres` pick these; pg_app skips them (fails them under
        # CI=true) when there is no server.
        pytest.param("pg_app", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_app(request):
    """The test's app on SQLite, then on PostgreSQL: AGENT and ADMIN, an empty trail."""
    return request.getfixturevalue(request.param)


def test_an_untouched_trail_verifies(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    code, output = verify(db_app)
    assert code == 0, output
    assert output.strip() == f"The audit trail is intact: 5 record(s), #{ids[0]} to #{ids[-1]}."


def test_each_record_carries_the_hash_of_the_one_before(app):
    write_lookups(app, AGENT, 3)
    with app.app_context():
        records = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    assert records[0].prev_hash == chain.GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.record_hash for r in records[:-1]]
    assert len({r.record_hash for r in records}) == 3


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("member_id", 123),
        ("staff_username", "someone.else"),
        ("reason", "Fraud check"),
        ("outcome", "not_found"),
        ("at", "2020-01-01 00:00:00.000000"),
    ],
)
def test_an_edited_record_is_named(db_app, column, value):
    ids = write_lookups(db_app, AGENT, 5)
    execute(db_app, f"UPDATE audit_record SET {column} = :v WHERE id = :id", v=value, id=ids[2])
    code, output = verify(db_app)
    assert code == 1
    assert f"BROKEN at record #{ids[2]}: its contents do not match its hash" in output


def test_a_recomputed_hash_without_the_key_is_caught_by_the_next_link(db_app):
    ids = write_lookups(db_app, AGENT, 4)
    execute(
        db_app, "UPDATE audit_record SET record_hash = :h WHERE id = :id", h="f" * 64, id=ids[1]
    )
    code, output = verify(db_app)
    assert code == 1 and f"record #{ids[1]}" in output


def test_a_removed_record_is_named_by_the_one_after_it(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    execute(db_app, "DELETE FROM audit_record WHERE id = :id", id=ids[2])
    code, output = verify(db_app)
    assert code == 1
    assert f"BROKEN at record #{ids[3]}: it does not follow record #{ids[1]}" in output


def test_removed_last_records_are_noticed(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    execute(db_app, "DELETE FROM audit_record WHERE id >= :id", id=ids[3])
    code, output = verify(db_app)
    assert code == 1
    assert f"the chain's last records are missing: records after record #{ids[2]}" in output


def test_removed_first_records_are_noticed(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    execute(db_app, "DELETE FROM audit_record WHERE id <= :id", id=ids[1])
    code, output = verify(db_app)
    assert code == 1
    assert (
        f"BROKEN at record #{ids[2]}: the chain starts at record #{ids[0]}, which is missing"
        in output
    )


def test_records_older_than_the_chain_are_reported_not_hidden(tmp_path, sandbox):
    # A trail that had records before the chain existed, upgraded to the signed head.
    path = tmp_path / "legacy.sqlite3"
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        flask_migrate.upgrade(revision="9f3c2a7d5b10")
        db.session.execute(
            text(
                "INSERT INTO audit_record (at, staff_username, identifier_type, program_scope,"
                " outcome, kind) VALUES ('2026-01-01 00:00:00', 'old.hand', 'mobile', 'all',"
                " 'found', 'lookup')"
            )
        )
        db.session.commit()
        flask_migrate.upgrade()
        add_staff(AGENT, "agent")
    write_lookups(app, AGENT, 2)
    code, output = verify(app)
    assert code == 0, output
    assert "1 record(s) predate the hash chain and are not covered." in output
    # An unhashed record slipped in later, below the chain, passes for old no longer.
    execute(
        app,
        "INSERT INTO audit_record (id, at, staff_username, identifier_type, program_scope,"
        " outcome, kind) VALUES (0, '2026-01-02 00:00:00', 'x', 'mobile', 'all', 'found',"
        " 'lookup')",
    )
    code, output = verify(app)
    assert code == 1
    assert "2 record(s) without a hash, but the signed head counts 1" in output
    with app.app_context():
        db.engine.dispose()


def test_prune_keeps_the_chain_verifiable_from_the_first_kept_record(app, clock):
    ids = write_lookups(app, AGENT, 10, clock=clock, step=timedelta(days=10))
    # Records are 10 days apart and the clock stands 10 days after the last: older than 45
    # days means the first six.
    result = app.test_cli_runner().invoke(args=["audit", "prune", "--older-than", "45"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"Removed 6 record(s) older than 45 days; the chain starts at record #{ids[6]}."
    )
    code, output = verify(app)
    assert code == 0, output
    assert f"4 record(s), #{ids[6]} to #{ids[9]}" in output
    with app.app_context():
        [event] = db.session.scalars(select(StaffEvent)).all()
        assert (event.action, event.detail) == ("audit prune", "6 record(s) older than 45 days")
    # New records chain on, and removing the first kept one is still noticed.
    more = write_lookups(app, AGENT, 1)
    assert verify(app)[0] == 0
    execute(app, "DELETE FROM audit_record WHERE id = :id", id=ids[6])
    code, output = verify(app)
    assert code == 1 and f"BROKEN at record #{ids[7]}" in output
    assert more[-1] > ids[-1]


def test_prune_defaults_to_the_retention_policy(make_app, clock):
    app = make_app(AUDIT_RETENTION_DAYS=15)
    write_lookups(app, AGENT, 3, clock=clock, step=timedelta(days=10))
    result = app.test_cli_runner().invoke(args=["audit", "prune"])
    assert "Removed 2 record(s) older than 15 days" in result.output
    assert verify(app)[0] == 0


def test_pruning_everything_leaves_a_chain_that_carries_on(app, clock):
    write_lookups(app, AGENT, 3)
    clock.advance(timedelta(days=400))
    app.test_cli_runner().invoke(args=["audit", "prune", "--older-than", "30"])
    assert verify(app) == (0, "The audit trail is intact: no chained records yet.\n")
    write_lookups(app, AGENT, 2)
    assert verify(app)[0] == 0


def test_concurrent_writers_never_fork_the_chain(db_app):
    write_concurrently(db_app, AGENT, threads=4, each=10)
    code, output = verify(db_app)
    assert code == 0, output
    assert "40 record(s)" in output


def head_statements(app) -> list[str]:
    """Collects each statement on the chain head the app's engine runs from now on."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:
        if "audit_chain_head" in statement:
            seen.append(" ".join(statement.split()[:1]))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
    return seen


def writes_counted(app) -> int:
    with app.app_context():
        return db.session.scalar(select(AuditChainHead.writes))


def test_a_write_locks_and_updates_the_head_in_two_statements_on_postgresql_one_update(db_app):
    write_lookups(db_app, AGENT, 1)  # the head row exists from here on
    before = writes_counted(db_app)
    statements = head_statements(db_app)

    write_lookups(db_app, AGENT, 3)

    postgres = db_app.config["DATABASE_URL"].startswith("postgresql")
    # PostgreSQL takes the row lock by reading (SELECT ... FOR UPDATE); SQLite locks the
    # database at the first write only, so its lock is an UPDATE.
    assert statements == ["SELECT" if postgres else "UPDATE", "UPDATE"] * 3
    assert writes_counted(db_app) == before + 3
    assert verify(db_app)[0] == 0


def test_the_new_migration_goes_down_and_up_again_on_sqlite(tmp_path, sandbox):
    path = tmp_path / "migrate.sqlite3"
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="734b8369c4d1")
        tables = inspect(db.engine).get_table_names()
        assert "audit_chain_head" not in tables and "staff_event" not in tables
        columns = {c["name"] for c in inspect(db.engine).get_columns("staff_user")}
        assert "locked" not in columns
        flask_migrate.upgrade()
        columns = {c["name"] for c in inspect(db.engine).get_columns("audit_record")}
        assert {"reason", "prev_hash", "record_hash"} <= columns
        db.session.close()
        db.engine.dispose()
