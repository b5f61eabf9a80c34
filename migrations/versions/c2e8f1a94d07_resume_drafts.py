"""Signed out mid-call: what was typed is kept on the server until the staff member signs in.

Revision ID: c2e8f1a94d07
Revises: c5e8a1f0b3d2
Create Date: 2026-12-07 13:10:00

A draft lives for fifteen minutes at most; none are kept on the way down.
"""

import sqlalchemy as sa
from alembic import op

revision = "c2e8f1a94d07"
down_revision = "c5e8a1f0b3d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resume_draft",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_username", sa.String(length=128), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_resume_draft")),
    )
    with op.batch_alter_table("resume_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resume_draft_created_at"), ["created_at"])


def downgrade():
    with op.batch_alter_table("resume_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resume_draft_created_at"))
    op.drop_table("resume_draft")
