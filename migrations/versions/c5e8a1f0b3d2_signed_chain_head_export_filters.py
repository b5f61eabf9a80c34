"""A signed audit chain head, and what exports and reports were made of.

Revision ID: c5e8a1f0b3d2
Revises: 9f3c2a7d5b10
Create Date: 2026-12-07 13:00:00

Written by hand. The chain head gains the ids of the first and last chained records, the
counts of chained and older records the trail holds and of records ever chained, and an
HMAC over them (app/audit/chain.py sign_head; the signing is repeated here, frozen, so this
revision does not change when the app does). The head is filled in from the trail as it
stands: the upgrade trusts what it finds, as the first `flask audit verify` after it should
confirm. Audit records gain `filters`: an export's or report's filters, in words.
"""

import hashlib
import hmac
import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "c5e8a1f0b3d2"
down_revision = "9f3c2a7d5b10"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HEAD_FIELDS = ("last_hash", "anchor_hash", "start_id", "last_id", "records", "unchained", "written")


def _sign(values: dict) -> str:
    base = current_app.config["AUDIT_HASH_KEY"].encode("utf-8")
    key = hmac.new(base, b"points-desk audit head v1", hashlib.sha256).digest()
    payload = json.dumps(
        {name: values[name] for name in HEAD_FIELDS}, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def upgrade():
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filters", sa.String(length=512), nullable=True))
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_id", ID, nullable=True))
        batch_op.add_column(sa.Column("last_id", ID, nullable=True))
        for name in ("records", "unchained", "written"):
            batch_op.add_column(sa.Column(name, ID, nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("signature", sa.String(length=64), nullable=True))

    conn = op.get_bind()
    head = conn.execute(sa.text("SELECT last_hash, anchor_hash FROM audit_chain_head")).first()
    last_hash, anchor_hash = head if head is not None else (GENESIS, GENESIS)
    chained = conn.execute(
        sa.text("SELECT count(*), min(id), max(id) FROM audit_record WHERE record_hash IS NOT NULL")
    ).one()
    unchained = conn.execute(
        sa.text("SELECT count(*) FROM audit_record WHERE record_hash IS NULL")
    ).scalar()
    values = {
        "last_hash": last_hash,
        "anchor_hash": anchor_hash,
        "start_id": chained[1],
        "last_id": chained[2],
        "records": chained[0],
        "unchained": unchained,
        "written": chained[0],
    }
    values["signature"] = _sign(values)
    if head is None:
        conn.execute(
            sa.text(
                "INSERT INTO audit_chain_head (id, writes, last_hash, anchor_hash, start_id,"
                " last_id, records, unchained, written, signature) VALUES (1, 0, :last_hash,"
                " :anchor_hash, :start_id, :last_id, :records, :unchained, :written, :signature)"
            ),
            values,
        )
    else:
        conn.execute(
            sa.text(
                "UPDATE audit_chain_head SET start_id = :start_id, last_id = :last_id,"
                " records = :records, unchained = :unchained, written = :written,"
                " signature = :signature"
            ),
            values,
        )


def downgrade():
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        for name in ("signature", "written", "unchained", "records", "last_id", "start_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_column("filters")
