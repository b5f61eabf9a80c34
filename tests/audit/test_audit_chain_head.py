"""The signed chain head and checkpoints: cutting the trail short or rewriting its start is
caught even when the head row is fixed up to match, on SQLite and PostgreSQL; a checkpoint
kept outside the database catches a head put back as it was earlier."""

from __future__ import annotations

import json
from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.conftest import AGENT, add_staff, sandbox_config
from tests.support.audit_chain_helpers import execute, verify, write_lookups


@pytest.fixture(
    params=[
        pytest.param("app", id="sqlite"),
        pytest.param("pg_app", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_app(request):
    """The test's app on SQLite, then on PostgreSQL: AGENT and ADMIN, an empty trail."""
    return request.getfixturevalue(request.param)


def _prev_hash(app, record_id: int) -> str:
    with app.app_context():
        return db.session.execute(
            text("SELECT prev_hash FROM audit_record WHERE id = :id"), {"id": record_id}
        ).scalar_one()


def _head(app) -> dict:
    with app.app_context():
        return dict(db.session.execute(text("SELECT * FROM audit_chain_head")).mappings().one())


def _set_head(app, **values: object) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    execute(app, f"UPDATE audit_chain_head SET {sets}", **values)


def _cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=["audit", *args])
    return result.exit_code, result.output


SIGNATURE_BROKEN = "BROKEN at the head: the chain head's signature does not match its values"


def test_deleting_the_newest_record_and_resetting_the_head_is_caught(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    head = _head(db_app)
    before_last = _prev_hash(db_app, ids[4])
    execute(db_app, "DELETE FROM audit_record WHERE id = :id", id=ids[4])
    _set_head(
        db_app,
        last_hash=before_last,
        last_id=ids[3],
        records=head["records"] - 1,
    )
    code, output = verify(db_app)
    assert code == 1
    assert SIGNATURE_BROKEN in output


def test_reanchoring_and_rewriting_the_records_before_the_anchor_is_caught(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    # The first two records are made to look older than the chain, and the head re-anchored.
    execute(
        db_app,
        "UPDATE audit_record SET prev_hash = NULL, record_hash = NULL, member_id = 1"
        " WHERE id < :id",
        id=ids[2],
    )
    _set_head(
        db_app, anchor_hash=_prev_hash(db_app, ids[2]), start_id=ids[2], records=3, unchained=2
    )
    code, output = verify(db_app)
    assert code == 1
    assert SIGNATURE_BROKEN in output


def test_rewriting_the_start_without_touching_the_head_is_caught(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    execute(
        db_app,
        "UPDATE audit_record SET prev_hash = NULL, record_hash = NULL WHERE id < :id",
        id=ids[2],
    )
    code, output = verify(db_app)
    assert code == 1
    assert f"BROKEN at record #{ids[0]}: it has no hash, but it lies inside the chain" in output


def test_deleting_everything_below_a_recent_record_is_caught(db_app):
    ids = write_lookups(db_app, AGENT, 5)
    execute(db_app, "DELETE FROM audit_record WHERE id < :id", id=ids[4])
    _set_head(db_app, anchor_hash=_prev_hash(db_app, ids[4]), start_id=ids[4], records=1)
    code, output = verify(db_app)
    assert code == 1
    assert SIGNATURE_BROKEN in output


def test_a_removed_head_is_caught(db_app):
    write_lookups(db_app, AGENT, 2)
    execute(db_app, "DELETE FROM audit_chain_head")
    code, output = verify(db_app)
    assert code == 1
    assert "the chain head is missing, but records are not" in output


def test_a_head_put_back_as_it_was_is_caught_by_a_checkpoint(db_app, tmp_path):
    ids = write_lookups(db_app, AGENT, 3)
    earlier = _head(db_app)
    ids = write_lookups(db_app, AGENT, 2)
    saved = tmp_path / "checkpoints.txt"
    code, output = _cli(db_app, "checkpoint", "--output", str(saved))
    assert code == 0, output
    line = json.loads(saved.read_text().strip())
    assert (line["written"], line["record_id"]) == (5, ids[-1])
    assert output.strip() == saved.read_text().strip()
    assert _cli(db_app, "verify", "--checkpoint", str(saved)) == (
        0,
        f"The audit trail is intact: 5 record(s), #{ids[0]} to #{ids[4]}.\n"
        "It still holds all 1 checkpoint(s) in checkpoints.txt.\n",
    )
    # Someone with database access removes the last two and puts the earlier head back: its
    # signature is genuine, so verify alone cannot tell; the checkpoint can.
    execute(db_app, "DELETE FROM audit_record WHERE id > :id", id=ids[2])
    _set_head(db_app, **{k: v for k, v in earlier.items() if k != "id"})
    assert verify(db_app)[0] == 0
    code, output = _cli(db_app, "verify", "--checkpoint", str(saved))
    assert code == 1
    assert (
        "BROKEN at checkpoint line 1 (" in output
        and "the head counts 3 record(s) ever written, fewer than the 5 the checkpoint saw"
        in output
    )


def test_a_checkpoint_whose_record_was_replaced_is_caught(db_app, tmp_path):
    write_lookups(db_app, AGENT, 2)
    saved = tmp_path / "cp.txt"
    assert _cli(db_app, "checkpoint", "--output", str(saved))[0] == 0
    point = json.loads(saved.read_text())
    execute(
        db_app,
        "UPDATE audit_record SET record_hash = :h WHERE id = :id",
        h="e" * 64,
        id=point["record_id"],
    )
    # The record's own hash no longer matches either; the checkpoint names it on its own.
    from app.audit import chain

    with db_app.app_context():
        problem = chain.check_checkpoint(chain.parse_checkpoint(saved.read_text()))
    assert problem == f"record #{point['record_id']}, the checkpoint's last, carries another hash"


def test_an_altered_or_foreign_checkpoint_is_refused(db_app, tmp_path):
    write_lookups(db_app, AGENT, 2)
    saved = tmp_path / "cp.txt"
    assert _cli(db_app, "checkpoint", "--output", str(saved))[0] == 0
    point = json.loads(saved.read_text())
    point["written"] = 1
    saved.write_text(json.dumps(point) + "\n")
    code, output = _cli(db_app, "verify", "--checkpoint", str(saved))
    assert code == 1
    assert "BROKEN at checkpoint line 1: it is not a checkpoint signed with this desk's key" in (
        output
    )


def test_checkpoints_hold_across_a_prune_and_new_records(app, clock, tmp_path):
    ids = write_lookups(app, AGENT, 6, clock=clock, step=timedelta(days=10))
    saved = tmp_path / "cp.txt"
    assert _cli(app, "checkpoint", "--output", str(saved))[0] == 0
    write_lookups(app, AGENT, 1)
    assert _cli(app, "checkpoint", "--output", str(saved))[0] == 0
    code, output = _cli(app, "prune", "--older-than", "35")
    assert code == 0, output
    assert f"the chain starts at record #{ids[3]}" in output
    write_lookups(app, AGENT, 2)
    code, output = _cli(app, "verify", "--checkpoint", str(saved))
    assert code == 0, output
    assert output.endswith("It still holds all 2 checkpoint(s) in cp.txt.\n")
    assert f"6 record(s), #{ids[3]} to #" in output
    head = _head(app)
    assert (head["start_id"], head["records"], head["written"]) == (ids[3], 6, 9)


def test_prune_refuses_a_broken_trail(app, clock):
    ids = write_lookups(app, AGENT, 4, clock=clock, step=timedelta(days=10))
    execute(app, "DELETE FROM audit_record WHERE id = :id", id=ids[3])
    code, output = _cli(app, "prune", "--older-than", "15")
    assert code == 1
    assert "Nothing removed: the audit trail does not verify" in output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM audit_record")).scalar() == 3


def test_checkpoint_refuses_a_broken_trail(app):
    ids = write_lookups(app, AGENT, 3)
    execute(app, "UPDATE audit_record SET member_id = 5 WHERE id = :id", id=ids[1])
    code, output = _cli(app, "checkpoint")
    assert code == 1
    assert f"BROKEN at record #{ids[1]}" in output


def test_an_upgraded_trail_gets_a_head_signed_as_the_app_signs_it(tmp_path, sandbox):
    # A trail written before the signed head: the upgrade counts and signs what it finds.
    path = tmp_path / "upgrade.sqlite3"
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        flask_migrate.upgrade()
        add_staff(AGENT, "agent")
    ids = write_lookups(app, AGENT, 3)
    with app.app_context():
        flask_migrate.downgrade(revision="9f3c2a7d5b10")
        flask_migrate.upgrade()
    head = _head(app)
    assert (head["start_id"], head["last_id"], head["records"], head["written"]) == (
        ids[0],
        ids[-1],
        3,
        3,
    )
    assert verify(app) == (0, f"The audit trail is intact: 3 record(s), #{ids[0]} to #{ids[2]}.\n")
    write_lookups(app, AGENT, 1)
    assert verify(app)[0] == 0
    with app.app_context():
        db.engine.dispose()
