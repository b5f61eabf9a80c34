"""Write the audit trail and hash member identifiers; the lookup view calls record_lookup."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.audit import chain
from app.audit.models import KINDS, OUTCOMES, SHOWN_OUTCOMES, AuditRecord
from app.auth.access import current_staff
from app.dbtypes import utcnow
from app.extensions import db

logger = logging.getLogger(__name__)
T = TypeVar("T")

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
    along: Callable[[], T] | None = None,
    kind: str = "lookup",
) -> T | None:
    """Write one lookup to the audit trail as the signed-in staff member (kind "history"
    for a member's points History, a view of its own).

    along: more writes for the same commit (the lookup's receipt); what it returned, or None
    when the record had to be written without them.
    Raises AuditUnavailable when it cannot be written (no database, no signed-in staff):
    the lookup must then not be shown.
    """
    return _write(
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
        ),
        along,
    )


def record_export(
    *,
    member_id: int | None,
    rows: int,
    kind: str = "export",
    identifier_hash: str | None = None,
    filters: str | None = None,
) -> None:
    """Audit an export, a report or a filtered audit page view: whom it was about (member id,
    identifier hash) and its other filters; raises AuditUnavailable like record_lookup."""
    _write(
        AuditRecord(
            kind=kind,
            identifier_type="audit",
            identifier_hash=identifier_hash,
            member_id=member_id,
            program_scope="all",
            outcome="found" if rows else "not_found",
            upstream_ms=None,
            filters=filters or None,
        )
    )


def record_check(*, member: str, passed: bool, upstream_ms: int | None, actor: str) -> None:
    """Audit one run of `flask capillary check` against its test member (as a keyed hash)
    by actor (no one is signed in on the command line); raises AuditUnavailable."""
    _write(
        AuditRecord(
            kind="check",
            identifier_type="check",
            identifier_hash=identifier_hash(member),
            member_id=None,
            program_scope="all",
            outcome="found" if passed else "upstream_error",
            upstream_ms=upstream_ms,
        ),
        actor=actor,
    )


def _write(
    record: AuditRecord,
    along: Callable[[], T] | None = None,
    *,
    actor: str | None = None,
) -> T | None:
    if record.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {record.outcome!r}")
    if record.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {record.kind!r}")
    staff = current_staff() if actor is None else None
    if actor is None and staff is None:
        raise AuditUnavailable("No signed-in staff member to record the lookup against")
    username = actor if actor is not None else staff.username  # type: ignore[union-attr]
    record.staff_username = username
    # Set here rather than by the column default: the chain's hash covers it.
    record.at = utcnow()
    if along is not None:
        # One commit for the record and what goes with it; should those writes fail, the
        # record is written on its own, since a record lost refuses the lookup.
        try:
            return _commit(record, along)
        except SQLAlchemyError as exc:
            db.session.rollback()
            logger.warning("Writing the audit record alone: %s", type(exc).__name__)
    try:
        _commit(record)
    except SQLAlchemyError as exc:
        db.session.rollback()
        # The class name only: the statement text would carry the member id.
        logger.error(
            "Could not write the audit record (%s by %s): %s",
            record.kind,
            username,
            type(exc).__name__,
        )
        raise AuditUnavailable("The audit trail cannot be written") from exc
    return None


def _commit(record: AuditRecord, along: Callable[[], T] | None = None) -> T | None:
    # link() takes the chain's lock before the INSERT takes an id (id order is chain order),
    # and adds the record.
    chain.link(record)
    result = along() if along is not None else None
    db.session.commit()
    return result


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
