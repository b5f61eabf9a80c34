"""Staff accounts, sign-in attempts and the lookup audit trail.

Revision ID: 521471f465a6
Revises:
Create Date: 2026-11-21 21:01:09

Generated with `flask db migrate`, then checked by hand: the app's UTCDateTime columns
are plain timezone-aware DateTime here (the type decorator only converts values in Python).
"""

import sqlalchemy as sa
from alembic import op

revision = "521471f465a6"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_username", sa.String(length=128), nullable=False),
        sa.Column("identifier_type", sa.String(length=32), nullable=False),
        sa.Column("identifier_hash", sa.String(length=64), nullable=True),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("program_scope", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("upstream_ms", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_record_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_record_identifier_hash"), ["identifier_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_record_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_record_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_record_staff_username"), ["staff_username"], unique=False
        )

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempt_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_username"), ["username"], unique=False)

    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_user_username")),
    )


def downgrade():
    op.drop_table("staff_user")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_username"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_address"))
    op.drop_table("login_attempt")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_record_staff_username"))
        batch_op.drop_index(batch_op.f("ix_audit_record_outcome"))
        batch_op.drop_index(batch_op.f("ix_audit_record_member_id"))
        batch_op.drop_index(batch_op.f("ix_audit_record_identifier_hash"))
        batch_op.drop_index(batch_op.f("ix_audit_record_at"))
    op.drop_table("audit_record")
