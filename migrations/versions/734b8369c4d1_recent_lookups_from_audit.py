"""Audit records carry the date range; recent lookups are read from the audit trail.

Revision ID: 734b8369c4d1
Revises: e4d32c83edab
Create Date: 2026-11-21 21:29:11

Generated with `flask db migrate`, then checked by hand. Every member page shown already
writes an audit record, so the separate recent_lookup table (and its write per page) goes;
its rows are not carried over (a convenience list, rebuilt by the next lookups).
"""

import sqlalchemy as sa
from alembic import op

revision = "734b8369c4d1"
down_revision = "e4d32c83edab"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recent_lookup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recent_lookup_opened_at"))
        batch_op.drop_index(batch_op.f("ix_recent_lookup_staff_username"))
    op.drop_table("recent_lookup")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_column("end_date")
        batch_op.drop_column("start_date")
    op.create_table(
        "recent_lookup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_username", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recent_lookup")),
        sa.UniqueConstraint(
            "staff_username", "member_id", name=op.f("uq_recent_lookup_staff_username")
        ),
    )
    with op.batch_alter_table("recent_lookup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recent_lookup_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recent_lookup_staff_username"), ["staff_username"], unique=False
        )
