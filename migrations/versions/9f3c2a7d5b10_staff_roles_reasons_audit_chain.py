"""Staff management and an audit trail you can trust.

Revision ID: 9f3c2a7d5b10
Revises: b7c41e9a2d55
Create Date: 2026-12-04 19:20:00

Written by hand. Staff accounts gain a lock flag and a one-time password-setup link (its
hash and expiry); the new role "manager" needs no change (roles are strings). Audit records
gain the lookup's reason and the hash chain (prev_hash, record_hash); the one-row
audit_chain_head holds the chain's last hash and start, and serialises writers. Existing
audit records are left without a hash: `flask audit verify` reports them as older than the
chain. New tables: staff_event (the admin trail) and staff_preference (display time zone).
"""

import sqlalchemy as sa
from alembic import op

revision = "9f3c2a7d5b10"
down_revision = "b7c41e9a2d55"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("setup_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("setup_expires_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_record_reason"), ["reason"], unique=False)

    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.Column("writes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_hash": GENESIS, "anchor_hash": GENESIS, "writes": 0}])

    op.create_table(
        "staff_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_event")),
    )
    with op.batch_alter_table("staff_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_event_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_event_target"), ["target"], unique=False)

    op.create_table(
        "staff_preference",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_staff_preference")),
    )


def downgrade():
    op.drop_table("staff_preference")
    with op.batch_alter_table("staff_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_event_target"))
        batch_op.drop_index(batch_op.f("ix_staff_event_at"))
        batch_op.drop_index(batch_op.f("ix_staff_event_actor"))
    op.drop_table("staff_event")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_record_reason"))
        batch_op.drop_column("record_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("reason")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("setup_expires_at")
        batch_op.drop_column("setup_token_hash")
        batch_op.drop_column("locked")
