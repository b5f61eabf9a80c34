"""Single-use lookup receipts replace the "already recorded" flag in the session cookie.

Revision ID: b7c41e9a2d55
Revises: 734b8369c4d1
Create Date: 2026-12-04 19:30:00

A receipt lives for two minutes at most; none exist before this revision, none are kept
on the way down.
"""

import sqlalchemy as sa
from alembic import op

revision = "b7c41e9a2d55"
down_revision = "734b8369c4d1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lookup_receipt",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_username", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("program_scope", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_lookup_receipt")),
    )
    with op.batch_alter_table("lookup_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lookup_receipt_created_at"), ["created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("lookup_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lookup_receipt_created_at"))
    op.drop_table("lookup_receipt")
