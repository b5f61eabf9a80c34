"""The audit trail's hash chain: each record carries the hash of the one before.

The hash is an HMAC keyed with a key derived from AUDIT_HASH_KEY, so someone who can write to
the database but does not hold the key cannot edit a record and recompute the chain after it.
Records older than the chain (written before it existed) carry no hash and are reported as
such. After a prune the chain starts at the first kept record: its prev_hash is kept in the
head row as the anchor the verification starts from.

The head row is signed too (last hash, anchor, first and last record ids, and counts), so
that cutting records off the end or the start and fixing up the head needs the key as well.
A signed head can still be put back as it was earlier; checkpoints (a signed line an auditor
keeps outside the database) catch that: `flask audit verify --checkpoint FILE`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditChainHead, AuditRecord
from app.extensions import db

logger = logging.getLogger(__name__)

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
    "filters",
)
# Hashed only when set, so that records written before the field existed keep their hashes.
OPTIONAL_FIELDS = frozenset({"filters"})
BATCH = 1000


def _chain_key() -> bytes:
    # Derived, so the chain's HMACs and the identifier HMACs never share a key's output space.
    return _derived_key(b"points-desk audit chain v1")


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record_digest(record: AuditRecord, key: bytes | None = None) -> str:
    """The record's hash: HMAC-SHA256 over its fields and prev_hash, as canonical JSON."""
    payload = {
        name: _plain(getattr(record, name))
        for name in HASHED_FIELDS
        if name not in OPTIONAL_FIELDS or getattr(record, name) is not None
    }
    payload["prev_hash"] = record.prev_hash
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key or _chain_key(), message, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Head:
    """The chain head's signed values (see AuditChainHead)."""

    last_hash: str
    anchor_hash: str
    start_id: int | None
    last_id: int | None
    records: int
    unchained: int
    written: int
    signature: str | None = None
    # Whether taking the lock counted this write in `writes` already (see _lock_head).
    write_counted: bool = True

    def payload(self) -> bytes:
        """Canonical JSON of every signed value."""
        values = {name: getattr(self, name) for name in HEAD_FIELDS}
        return json.dumps(values, sort_keys=True, separators=(",", ":")).encode("utf-8")


# What the head's signature covers: a change to any of them without the key is detected.
HEAD_FIELDS = ("last_hash", "anchor_hash", "start_id", "last_id", "records", "unchained", "written")


def _derived_key(purpose: bytes) -> bytes:
    base = current_app.config["AUDIT_HASH_KEY"].encode("utf-8")
    return hmac.new(base, purpose, hashlib.sha256).digest()


def sign_head(head: Head) -> str:
    """HMAC-SHA256 (hex) of the head's values, under a key derived from AUDIT_HASH_KEY."""
    return hmac.new(
        _derived_key(b"points-desk audit head v1"), head.payload(), hashlib.sha256
    ).hexdigest()


def head_is_signed(head: Head) -> bool:
    """Whether the head's signature matches its values."""
    return head.signature is not None and hmac.compare_digest(head.signature, sign_head(head))


def _fresh_head() -> Head:
    head = Head(GENESIS, GENESIS, None, None, 0, 0, 0)
    head.signature = sign_head(head)
    return head


def _read_head(row: object) -> Head:
    return Head(**{name: getattr(row, name) for name in (*HEAD_FIELDS, "signature")})


_HEAD = AuditChainHead.__table__
_HEAD_COLUMNS = (*HEAD_FIELDS, "signature")
# The head statements, built once: compiled once, and run on the session's connection without
# the ORM's execution layer (nothing in the session holds the head row). Built and run through
# the ORM on every write, they were most of a lookup's audit write.
_HEAD_VALUES = [_HEAD.c[name] for name in _HEAD_COLUMNS]
# SQLite: one statement takes the lock and reads the head (RETURNING: SQLite 3.35+). A write
# it must be: SQLite locks the database at a transaction's first write, never for a read.
_LOCK_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(writes=_HEAD.c.writes + 1)
    .returning(*_HEAD_VALUES)
)
# PostgreSQL: a row lock taken by reading, so that a write is one UPDATE of the head, not two
# (each UPDATE leaves the row a new version to write and vacuum).
_LOCK_HEAD_BY_READING = select(*_HEAD_VALUES).where(_HEAD.c.id == HEAD_ID).with_for_update()
_STORE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values({name: bindparam(f"new_{name}") for name in _HEAD_COLUMNS})
)
_STORE_HEAD_COUNTING = _STORE_HEAD.values(writes=_HEAD.c.writes + 1)

_RECORDS = AuditRecord.__table__
_RECORD_VALUES = tuple(column.key for column in _RECORDS.columns if column.key != "id")
_INSERT_RECORD = insert(_RECORDS).returning(_RECORDS.c.id)


def _lock_head() -> Head:
    """Take the chain's write lock for this transaction; return the head as it stands."""
    connection = db.session.connection()
    by_reading = connection.dialect.name == "postgresql"
    row = connection.execute(_LOCK_HEAD_BY_READING if by_reading else _LOCK_HEAD).one_or_none()
    if row is None:
        # The migration creates the row; a schema made without it starts the chain here. A
        # head deleted behind the app's back starts afresh too, and verify then finds the
        # records it does not count.
        head = _fresh_head()
        try:
            with db.session.begin_nested():
                db.session.add(AuditChainHead(id=HEAD_ID, writes=1, **_head_values(head)))
        except IntegrityError:
            return _lock_head()  # another writer made it first: lock theirs
        return head
    head = _read_head(row)
    head.write_counted = not by_reading
    return head


def _head_values(head: Head) -> dict[str, object]:
    return {name: getattr(head, name) for name in (*HEAD_FIELDS, "signature")}


def _store_head(head: Head, was_signed: bool) -> None:
    """Write the head back, signed; a head that was not signed stays unsigned."""
    # Re-signing a head someone changed without the key would launder the change: it keeps
    # failing verify until someone looks.
    if was_signed:
        head.signature = sign_head(head)
    else:
        logger.error("The audit chain head's signature does not match: run flask audit verify")
    db.session.connection().execute(
        _STORE_HEAD if head.write_counted else _STORE_HEAD_COUNTING,
        {f"new_{name}": value for name, value in _head_values(head).items()},
    )


def link(record: AuditRecord) -> None:
    """Chain a record onto the trail and write it (record.id is set); the caller commits."""
    # Lock first, insert after: the chain's lock must be held before the INSERT takes an id,
    # so that id order is chain order (PostgreSQL hands out ids outside transactions).
    head = _lock_head()
    was_signed = head_is_signed(head)
    record.prev_hash = head.last_hash
    record.record_hash = record_digest(record)
    # A plain INSERT, not the session's flush: nothing reads the record back in this request.
    values = {name: getattr(record, name) for name in _RECORD_VALUES}
    record.id = db.session.connection().execute(_INSERT_RECORD, values).scalar_one()
    head.last_hash = record.record_hash
    head.last_id = record.id
    if head.start_id is None:
        head.start_id = record.id
    head.records += 1
    head.written += 1
    _store_head(head, was_signed)


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


def _head_row() -> Head | None:
    row = db.session.get(AuditChainHead, HEAD_ID)
    return _read_head(row) if row is not None else None


def verify() -> Verdict:
    """Check the head's signature, walk the trail in order and report the first broken link,
    if any, then compare what was found with what the head counts."""
    head = _head_row()
    key = _chain_key()
    checked = unchained = 0
    first_id = last_id = None

    def broken(record_id: int | None, problem: str) -> Verdict:
        return Verdict(checked, unchained, first_id, last_id, record_id, problem)

    if head is None:
        if db.session.scalar(select(func.count()).select_from(AuditRecord)):
            return broken(None, "the chain head is missing, but records are not")
        return Verdict(0, 0, None, None)
    if not head_is_signed(head):
        return broken(
            None,
            "the chain head's signature does not match its values: the head was changed "
            "without the key (records may have been removed from its end or its start)",
        )
    expected_prev = head.anchor_hash
    for record in _records():
        inside = head.start_id is not None and record.id >= head.start_id
        if record.record_hash is None:
            if checked or inside:
                return broken(record.id, "it has no hash, but it lies inside the chain")
            unchained += 1
            continue
        if first_id is None:
            first_id = record.id
            if head.start_id is None or record.id < head.start_id:
                return broken(record.id, "it lies before the chain's signed start")
            if record.id != head.start_id:
                return broken(
                    record.id,
                    f"the chain starts at record #{head.start_id}, which is missing: "
                    "records before this one were removed",
                )
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
    if expected_prev != head.last_hash or last_id != head.last_id:
        where = f"record #{last_id}" if last_id is not None else "the start"
        return broken(None, f"the chain's last records are missing: records after {where}")
    if checked != head.records:
        return broken(
            None,
            f"the trail holds {checked} chained record(s) but the signed head counts "
            f"{head.records}: records were removed",
        )
    if unchained != head.unchained:
        return broken(
            None,
            f"{unchained} record(s) without a hash, but the signed head counts "
            f"{head.unchained} from before the chain: records were added or removed",
        )
    return Verdict(checked, unchained, first_id, last_id)


class PruneRefused(RuntimeError):
    """The trail is broken: a prune would sign over the damage."""


def prune(cutoff: datetime) -> tuple[int, int | None]:
    """Remove records older than cutoff; return (removed, id of the first kept record).

    The chain then starts at the first kept chained record: the signed head records it and
    its prev_hash as the anchor, and the counts drop by what was removed. Refuses (raising
    PruneRefused) when the trail does not verify.
    """
    verdict = verify()
    if not verdict.intact:
        db.session.rollback()
        raise PruneRefused(verdict.problem or "")
    head = _lock_head()
    was_signed = head_is_signed(head)
    first_kept = db.session.scalar(select(func.min(AuditRecord.id)).where(AuditRecord.at >= cutoff))
    doomed = select(AuditRecord.id)
    if first_kept is not None:
        doomed = doomed.where(AuditRecord.id < first_kept)
    doomed_chained = db.session.scalar(
        select(func.count()).select_from(
            doomed.where(AuditRecord.record_hash.is_not(None)).subquery()
        )
    )
    removing = delete(AuditRecord).execution_options(synchronize_session=False)
    if first_kept is not None:
        removing = removing.where(AuditRecord.id < first_kept)
    removed = db.session.execute(removing).rowcount
    start = db.session.execute(
        select(AuditRecord.id, AuditRecord.prev_hash)
        .where(AuditRecord.record_hash.is_not(None))
        .order_by(AuditRecord.id)
        .limit(1)
    ).one_or_none()
    if start is None:
        # Nothing chained is kept: the next record follows the last one written.
        head.anchor_hash, head.start_id, head.last_id = head.last_hash, None, None
    else:
        head.anchor_hash, head.start_id = start.prev_hash, start.id
    head.records -= doomed_chained
    head.unchained -= removed - doomed_chained
    _store_head(head, was_signed)
    db.session.commit()
    return removed, first_kept


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of how far the chain had got: kept by an auditor, outside the database."""

    at: str
    written: int
    record_id: int | None
    record_hash: str
    signature: str = ""

    def payload(self) -> bytes:
        """Canonical JSON of every signed value."""
        values = {
            "at": self.at,
            "written": self.written,
            "record_id": self.record_id,
            "record_hash": self.record_hash,
        }
        return json.dumps(values, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def line(self) -> str:
        """The checkpoint as one line of JSON."""
        values = json.loads(self.payload())
        return json.dumps({"audit_checkpoint": 1, **values, "signature": self.signature})


def _sign_checkpoint(checkpoint: Checkpoint) -> str:
    key = _derived_key(b"points-desk audit checkpoint v1")
    return hmac.new(key, checkpoint.payload(), hashlib.sha256).hexdigest()


def checkpoint(at: datetime) -> Checkpoint:
    """A signed checkpoint of the chain as it stands (the caller has verified it)."""
    head = _head_row() or _fresh_head()
    unsigned = Checkpoint(at.isoformat(), head.written, head.last_id, head.last_hash)
    return Checkpoint(
        unsigned.at,
        unsigned.written,
        unsigned.record_id,
        unsigned.record_hash,
        _sign_checkpoint(unsigned),
    )


def parse_checkpoint(line: str) -> Checkpoint | None:
    """A checkpoint line read back, or None when it is not one or its signature fails."""
    try:
        values = json.loads(line)
        if not isinstance(values, dict) or values.get("audit_checkpoint") != 1:
            return None
        record_id = values["record_id"]
        read = Checkpoint(
            str(values["at"]),
            int(values["written"]),
            int(record_id) if record_id is not None else None,
            str(values["record_hash"]),
            str(values["signature"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not hmac.compare_digest(read.signature, _sign_checkpoint(read)):
        return None
    return read


def check_checkpoint(point: Checkpoint) -> str | None:
    """Why the trail no longer holds what the checkpoint saw, or None when it does."""
    head = _head_row() or _fresh_head()
    if head.written < point.written:
        return (
            f"the head counts {head.written} record(s) ever written, fewer than the "
            f"{point.written} the checkpoint saw: the chain was rolled back"
        )
    if point.record_id is None:
        return None
    if head.start_id is None or point.record_id < head.start_id:
        return None  # pruned since, by the signed head's account
    held = db.session.scalar(
        select(AuditRecord.record_hash).where(AuditRecord.id == point.record_id)
    )
    if held != point.record_hash:
        what = "is missing" if held is None else "carries another hash"
        return f"record #{point.record_id}, the checkpoint's last, {what}"
    return None
