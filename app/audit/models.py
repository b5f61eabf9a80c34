"""The audit trail: one row per member lookup or audit export, never the identifier itself."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db
from app.identifier_readings import KIND_WORDS

# found_stale: the member was shown, with last-known figures for calls the upstream did not
# answer (app/lookup/fetching/last_known.py).
OUTCOMES = ("found", "found_stale", "not_found", "upstream_error", "refused")
# The lookups that showed the member.
SHOWN_OUTCOMES = ("found", "found_stale")
# Each outcome as the audit pages say it.
OUTCOME_WORDS = {
    "found": "found",
    "found_stale": "found, last-known figures",
    "not_found": "not found",
    "upstream_error": "upstream error",
    "refused": "refused",
}
# view: a filtered audit page shown; check: `flask capillary check` ran against the upstream
# (one record per run); history: a member's points History (the ledger) opened, audited as a
# view of its own.
KINDS = ("lookup", "export", "report", "view", "check", "history")
# Each kind of record as the audit pages say it.
RECORD_KIND_WORDS = {
    "lookup": "lookup",
    "export": "CSV export",
    "report": "member report",
    "view": "audit page view",
    "check": "upstream check",
    "history": "points History",
}


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
    # Why the staff member looked the member up (one of LOOKUP_REASONS), when asked.
    reason: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    # What an export or report was made of: the audit page's filters, in words.
    filters: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # The hash chain (app/audit/chain.py): the record before's hash, and this one's, which
    # covers every field above and prev_hash. None only on records older than the chain.
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def outcome_words(self) -> str:
        """The outcome as the audit pages say it."""
        return OUTCOME_WORDS.get(self.outcome, self.outcome.replace("_", " "))

    @property
    def kind_words(self) -> str:
        """The kind of record as the audit pages say it."""
        return RECORD_KIND_WORDS.get(self.kind, self.kind)

    @property
    def identifier_type_words(self) -> str:
        """The identifier kind as staff say it: "mobile number", "Capillary customer id"."""
        return KIND_WORDS.get(self.identifier_type, self.identifier_type.replace("_", " "))


class AuditChainHead(db.Model):
    """One row: the chain's last hash, where it starts after pruning, and its counts, signed.

    Every audit write locks this row first, which serialises writers on every backend (a row
    lock taken by SELECT ... FOR UPDATE in PostgreSQL, the write lock an UPDATE takes in
    SQLite), so the chain never forks.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    # The prev_hash the first kept record must carry: GENESIS until a prune moves it.
    anchor_hash: Mapped[str] = mapped_column(String(64))
    # Times the head was locked (writes and prunes); not signed.
    writes: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    # The first and last chained records in the trail (None while it holds none).
    start_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )
    last_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )
    # Chained records the trail holds; records older than the chain it holds; records ever
    # chained (never goes down, a prune included).
    records: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    unchained: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    written: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    # HMAC of the values above (app/audit/chain.py sign_head); None only if never signed.
    signature: Mapped[str | None] = mapped_column(String(64), nullable=True)
