"""The audit trail's hash chain: each record carries the hash of the one before.

The hash is an HMAC keyed with a key derived from AUDIT_HASH_KEY, so someone who can write to
the database but does not hold the key cannot edit a record and recompute the chain after it.
Records older than the chain (written before it existed) carry no hash and are reported as
such. After a prune the chain starts at the first kept record: its prev_hash is kept in the
head row as the anchor the verification starts from.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.audit.models import AuditChainHead, AuditRecord
from app.extensions import db

GENESIS = "0" * 64
HEAD_ID = 1
# Every field of a record the hash covers, besides prev_hash. Adding a field to the model
# means adding it here (and a new chain version) for the chain to protect it.
HASHED_FIELDS = (
    "at",
    "staff_username",
    "kind",
    "identifier_type",
    "identifier_hash",
    "member_id",
    "program_scope",
    "start_date",
    "end_date",
    "outcome",
    "upstream_ms",
    "reason",
)
BATCH = 1000


def _chain_key() -> bytes:
    # Derived, so the chain's HMACs and the identifier HMACs never share a key's output space.
    base = current_app.config["AUDIT_HASH_KEY"].encode("utf-8")
    return hmac.new(base, b"points-desk audit chain v1", hashlib.sha256).digest()


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record_digest(record: AuditRecord, key: bytes | None = None) -> str:
    """The record's hash: HMAC-SHA256 over its fields and prev_hash, as canonical JSON."""
    payload = {name: _plain(getattr(record, name)) for name in HASHED_FIELDS}
    payload["prev_hash"] = record.prev_hash
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key or _chain_key(), message, hashlib.sha256).hexdigest()


def _lock_head() -> tuple[str, str]:
    """Take the chain's write lock for this transaction; return (last_hash, anchor_hash)."""
    # One statement takes the lock and reads the head (RETURNING: SQLite 3.35+, PostgreSQL).
    row = db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(writes=AuditChainHead.writes + 1)
        .returning(AuditChainHead.last_hash, AuditChainHead.anchor_hash)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        # The migration creates the row; a schema made without it starts the chain here.
        db.session.add(AuditChainHead(id=HEAD_ID, last_hash=GENESIS, anchor_hash=GENESIS, writes=1))
        db.session.flush()
        return GENESIS, GENESIS
    return row.last_hash, row.anchor_hash


def _set_head(**values: str) -> None:
    db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def link(record: AuditRecord) -> None:
    """Chain a record not yet in the session onto the trail; the caller adds it and commits."""
    last_hash, _ = _lock_head()
    record.prev_hash = last_hash
    record.record_hash = record_digest(record)
    _set_head(last_hash=record.record_hash)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What verify() found."""

    checked: int  # chained records checked
    unchained: int  # records older than the chain
    first_id: int | None
    last_id: int | None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None and self.problem is None


def _records() -> Iterator[AuditRecord]:
    """Every record in id order, a batch at a time."""
    # Keyset pages rather than a streaming cursor: none is left open when the walk stops early.
    after = None
    while True:
        query = select(AuditRecord).order_by(AuditRecord.id).limit(BATCH)
        if after is not None:
            query = query.where(AuditRecord.id > after)
        batch = db.session.scalars(query).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id
        db.session.expunge_all()  # keep memory flat over a long trail


def verify() -> Verdict:
    """Walk the trail in order and report the first broken link, if any."""
    head = db.session.get(AuditChainHead, HEAD_ID)
    expected_prev = head.anchor_hash if head else GENESIS
    last_hash = head.last_hash if head else GENESIS
    key = _chain_key()
    checked = unchained = 0
    first_id = last_id = None

    def broken(record_id: int | None, problem: str) -> Verdict:
        return Verdict(checked, unchained, first_id, last_id, record_id, problem)

    for record in _records():
        if record.record_hash is None:
            if checked:
                return broken(record.id, "it has no hash, but the records before it do")
            unchained += 1
            continue
        if first_id is None:
            first_id = record.id
        if record.prev_hash != expected_prev:
            if checked == 0:
                return broken(
                    record.id,
                    "it does not follow the chain's start: records before it were removed",
                )
            return broken(
                record.id,
                f"it does not follow record #{last_id}: a record between them was removed",
            )
        if record_digest(record, key) != record.record_hash:
            return broken(record.id, "its contents do not match its hash: it was changed")
        expected_prev = record.record_hash
        last_id = record.id
        checked += 1
    if expected_prev != last_hash and (checked or last_hash != GENESIS):
        where = f"record #{last_id}" if last_id is not None else "the start"
        return broken(None, f"the chain's last records are missing: records after {where}")
    return Verdict(checked, unchained, first_id, last_id)


def prune(cutoff: datetime) -> tuple[int, int | None]:
    """Remove records older than cutoff; return (removed, id of the first kept record)."""
    # The chain then starts at the first kept record: its prev_hash becomes the anchor.
    last_hash, _ = _lock_head()
    first_kept = db.session.scalar(select(func.min(AuditRecord.id)).where(AuditRecord.at >= cutoff))
    doomed = delete(AuditRecord).execution_options(synchronize_session=False)
    if first_kept is None:
        removed = db.session.execute(doomed).rowcount
        anchor = last_hash
    else:
        removed = db.session.execute(doomed.where(AuditRecord.id < first_kept)).rowcount
        kept_prev = db.session.scalar(
            select(AuditRecord.prev_hash).where(AuditRecord.id == first_kept)
        )
        anchor = kept_prev or GENESIS
    _set_head(anchor_hash=anchor)
    db.session.commit()
    return removed, first_kept
