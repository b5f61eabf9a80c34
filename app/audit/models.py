"""The audit trail: one row per member lookup or audit export, never the identifier itself."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

OUTCOMES = ("found", "not_found", "upstream_error", "refused")
KINDS = ("lookup", "export")


class AuditRecord(db.Model):
    """Who looked up whom (as a keyed hash), when, in which program scope, with what result."""

    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_username: Mapped[str] = mapped_column(String(128), index=True)
    identifier_type: Mapped[str] = mapped_column(String(32))
    # HMAC-SHA256 (hex) of the normalised identifier; None when there was none to hash.
    identifier_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    member_id: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)
    program_scope: Mapped[str] = mapped_column(String(32))
    # The date range of the promised-points schedule the staff member asked for, if any.
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    upstream_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(8), default="lookup")
