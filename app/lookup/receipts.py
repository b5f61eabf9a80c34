"""Single-use receipts: the proof, kept on the server, that a lookup POST already wrote the
audit record for the member page it redirects to.

The cookie carries only a random token; the database keeps its hash, bound to the staff
member, the member and the exact program and dates. Redeeming deletes the row in the same
statement that checks it, so a replayed or shared cookie, or twenty concurrent page loads,
get one free page at most and every other view writes its own audit record.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, Date, String, bindparam, delete, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db
from app.lookup.fetching.scope import LookupParams

logger = logging.getLogger(__name__)

# The redirect follows the POST at once; a receipt older than this is not honoured.
RECEIPT_SECONDS = 120
# Receipts never redeemed (a closed tab) are deleted by the next issue after this long, once
# per process, rather than by a DELETE on every lookup.
PURGE_EVERY_SECONDS = 60.0
_purge = {"next": 0.0}
_purge_lock = threading.Lock()


class LookupReceipt(db.Model):
    """One audited lookup whose redirect target has not been shown yet."""

    __tablename__ = "lookup_receipt"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_username: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int] = mapped_column(BigInteger)
    program_scope: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


_RECEIPTS = LookupReceipt.__table__
# Built once and run on the session's connection, not through the ORM: nothing in the session
# holds a receipt, and building and running these through the ORM on every lookup cost more
# than the statements themselves.
_ISSUE = insert(_RECEIPTS)
_REDEEM = delete(_RECEIPTS).where(
    _RECEIPTS.c.token_hash == bindparam("token_hash"),
    _RECEIPTS.c.staff_username == bindparam("staff_username"),
    _RECEIPTS.c.member_id == bindparam("member_id"),
    _RECEIPTS.c.program_scope == bindparam("program_scope"),
    # IS (SQLite) or IS NOT DISTINCT FROM (PostgreSQL): dates left open match only NULL.
    _RECEIPTS.c.start_date.is_not_distinct_from(bindparam("start_date", type_=Date)),
    _RECEIPTS.c.end_date.is_not_distinct_from(bindparam("end_date", type_=Date)),
    _RECEIPTS.c.created_at >= bindparam("oldest", type_=UTCDateTime),
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _oldest_valid() -> datetime:
    return utcnow() - timedelta(seconds=RECEIPT_SECONDS)


def _purge_due() -> bool:
    now = time.monotonic()
    with _purge_lock:
        if now < _purge["next"]:
            return False
        _purge["next"] = now + PURGE_EVERY_SECONDS
        return True


def stage(staff_username: str, member_id: int, params: LookupParams) -> str:
    """Add a receipt to the open transaction (the audit record's, so one commit writes both);
    its token. The caller commits; a failed write raises SQLAlchemyError."""
    token = secrets.token_urlsafe(24)
    if _purge_due():
        db.session.execute(delete(LookupReceipt).where(LookupReceipt.created_at < _oldest_valid()))
    # A plain INSERT into the table: nothing reads the row back in this request.
    db.session.connection().execute(
        _ISSUE,
        {
            "token_hash": _digest(token),
            "staff_username": staff_username,
            "member_id": member_id,
            "program_scope": params.audit_scope,
            "start_date": params.start_date,
            "end_date": params.end_date,
            "created_at": utcnow(),
        },
    )
    return token


def redeem(token: object, staff_username: str, member_id: int, params: LookupParams) -> bool:
    """True once for a live receipt matching exactly this page; it is used up either way."""
    if not isinstance(token, str) or not token:
        return False
    try:
        used = (
            db.session.connection()
            .execute(
                _REDEEM,
                {
                    "token_hash": _digest(token),
                    "staff_username": staff_username,
                    "member_id": member_id,
                    "program_scope": params.audit_scope,
                    "start_date": params.start_date,
                    "end_date": params.end_date,
                    "oldest": _oldest_valid(),
                },
            )
            .rowcount
        )
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        logger.warning("Could not redeem a lookup receipt: %s", type(exc).__name__)
        return False
    return used == 1
