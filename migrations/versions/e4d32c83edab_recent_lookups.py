"""Recent lookups: the last members each staff member opened.

Revision ID: e4d32c83edab
Revises: 521471f465a6
Create Date: 2026-11-21 21:06:21

Generated with `flask db migrate`, then checked by hand: UTCDateTime is a plain
timezone-aware DateTime here (the type decorator only converts values in Python).
"""

import sqlalchemy as sa
from alembic import op

revision = "e4d32c83edab"
down_revision = "521471f465a6"
branch_labels = None
depends_on = None


def upgrade():
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


def downgrade():
    with op.batch_alter_table("recent_lookup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recent_lookup_staff_username"))
        batch_op.drop_index(batch_op.f("ix_recent_lookup_opened_at"))
    op.drop_table("recent_lookup")
