"""Write the audit trail and hash member identifiers; the lookup view calls record_lookup."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.audit import chain
from app.audit.models import KINDS, OUTCOMES, SHOWN_OUTCOMES, AuditRecord
from app.auth.access import current_staff
from app.dbtypes import utcnow
from app.extensions import db

logger = logging.getLogger(__name__)

# Only digits and phone punctuation: treat as a phone number and keep the digits.
_PHONE_LIKE = re.compile(r"^[\d\s+\-().]+$")


class AuditUnavailable(RuntimeError):
    """The audit record could not be written; the caller must not show member data."""


def normalise_identifier(value: str) -> str:
    """The canonical form that is hashed: trimmed, case-folded, phone numbers as digits.

    The same rule for every identifier type, so an admin can type an identifier in any
    usual spelling ("+91 98765-43210", "919876543210") and find the same records.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if _PHONE_LIKE.match(text) and any(ch.isdigit() for ch in text):
        return re.sub(r"\D", "", text)
    return text.casefold()


def identifier_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of the normalised identifier, keyed with AUDIT_HASH_KEY."""
    key = current_app.config["AUDIT_HASH_KEY"]
    return hmac.new(
        key.encode("utf-8"), normalise_identifier(value).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def record_lookup(
    *,
    identifier_type: str,
    identifier_value: str | None,
    member_id: int | None,
    program_scope: str,
    outcome: str,
    upstream_ms: int | None,
    start_date: date | None = None,
    end_date: date | None = None,
    reason: str | None = None,
    kind: str = "lookup",
) -> None:
    """Write one lookup to the audit trail as the signed-in staff member (kind "history"
    for a member's points History, a view of its own).

    Raises AuditUnavailable when it cannot be written (no database, no signed-in staff):
    the lookup must then not be shown.
    """
    _write(
        AuditRecord(
            kind=kind,
            identifier_type=identifier_type,
            identifier_hash=identifier_hash(identifier_value) if identifier_value else None,
            member_id=member_id,
            program_scope=str(program_scope),
            outcome=outcome,
            upstream_ms=upstream_ms,
            start_date=start_date,
            end_date=end_date,
            reason=reason,
        )
    )


def record_export(*, member_id: int | None, rows: int, kind: str = "export") -> None:
    """Audit an export (or a report); raises AuditUnavailable like record_lookup."""
    _write(
        AuditRecord(
            kind=kind,
            identifier_type="audit",
            identifier_hash=None,
            member_id=member_id,
            program_scope="all",
            outcome="found" if rows else "not_found",
            upstream_ms=None,
        )
    )


def _write(record: AuditRecord) -> None:
    if record.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {record.outcome!r}")
    if record.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {record.kind!r}")
    staff = current_staff()
    if staff is None:
        raise AuditUnavailable("No signed-in staff member to record the lookup against")
    record.staff_username = staff.username
    # Set here rather than by the column default: the chain's hash covers it.
    record.at = utcnow()
    try:
        # Link first, add after: the chain's lock must be held before the INSERT takes an id,
        # so that id order is chain order (PostgreSQL hands out ids outside transactions).
        chain.link(record)
        db.session.add(record)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        # The class name only: the statement text would carry the member id.
        logger.error(
            "Could not write the audit record (%s by %s): %s",
            record.kind,
            staff.username,
            type(exc).__name__,
        )
        raise AuditUnavailable("The audit trail cannot be written") from exc


def members_recently_shown(username: str, limit: int) -> list[AuditRecord]:
    """The latest record of each of the last `limit` distinct members shown to this staff
    member (lookups that showed them, with last-known figures too; newest first): what the
    recent-lookups list is made from."""
    latest_per_member = (
        select(func.max(AuditRecord.id))
        .where(
            AuditRecord.staff_username == username,
            AuditRecord.kind == "lookup",
            AuditRecord.outcome.in_(SHOWN_OUTCOMES),
            AuditRecord.member_id.is_not(None),
        )
        .group_by(AuditRecord.member_id)
        .order_by(func.max(AuditRecord.id).desc())
        .limit(limit)
    )
    return list(
        db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.id.in_(latest_per_member.scalar_subquery()))
            .order_by(AuditRecord.id.desc())
        )
    )
