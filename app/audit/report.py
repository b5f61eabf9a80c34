"""The "who looked at this member" report: every lookup of one member, ready to print.

Like the audit page, a typed identifier is posted, hashed and never put into a URL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from app.audit.blueprint import bp
from app.audit.forms import MemberReportForm
from app.audit.matching import identifier_match, link_hashes, resolved_members, typed_hashes
from app.audit.models import AuditRecord
from app.audit.service import AuditUnavailable, record_export
from app.auth.access import current_staff
from app.dbtypes import utcnow
from app.extensions import db


@dataclass(frozen=True, slots=True)
class StaffSummary:
    """One staff member's lookups of the member."""

    username: str
    lookups: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class KindCount:
    """How many of the lookups were made by one kind of identifier."""

    words: str  # "mobile number"
    lookups: int


@dataclass(frozen=True, slots=True)
class MemberReport:
    """What the printed report shows."""

    member_id: int | None
    by_identifier: bool
    resolved: list[int]  # the members the identifier given was recorded against
    kinds: list[KindCount]
    records: list[AuditRecord]
    summaries: list[StaffSummary]
    made_at: datetime
    made_by: str
    oldest_kept: datetime | None
    retention_days: int
    capped: bool


def _records(member_id: int | None, hashes: list[str], resolved: list[int]) -> list[AuditRecord]:
    matches = []
    if member_id is not None:
        matches.append(AuditRecord.member_id == member_id)
    if hashes:
        matches.append(identifier_match(hashes, resolved))
    query = (
        select(AuditRecord)
        # A member's points History is a look at them too (kind "history").
        .where(AuditRecord.kind.in_(("lookup", "history")), or_(*matches))
        .order_by(AuditRecord.at, AuditRecord.id)
        .limit(current_app.config["AUDIT_EXPORT_MAX_ROWS"])
    )
    return list(db.session.scalars(query))


def summarise(records: list[AuditRecord]) -> list[StaffSummary]:
    """Per staff member, how many lookups and the first and last, busiest first."""
    seen: dict[str, list[AuditRecord]] = {}
    for record in records:
        seen.setdefault(record.staff_username, []).append(record)
    summaries = [
        StaffSummary(name, len(rows), min(r.at for r in rows), max(r.at for r in rows))
        for name, rows in seen.items()
    ]
    return sorted(summaries, key=lambda s: (-s.lookups, s.username))


def count_kinds(records: list[AuditRecord]) -> list[KindCount]:
    """How many lookups each kind of identifier made, most used first."""
    counts = Counter(record.identifier_type_words for record in records)
    return [KindCount(words, n) for words, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]


def _oldest_kept() -> datetime | None:
    return db.session.scalar(select(AuditRecord.at).order_by(AuditRecord.id).limit(1))


@bp.post("/audit/member")
def member_report_search() -> Response | tuple[str, int]:
    """Hash a typed identifier, then redirect to the report's link, which carries only the hash."""
    form = MemberReportForm()
    if not form.validate_on_submit():
        form.identifier.data = form.identifier.raw_data = None
        return render_template("audit/member_report.html", form=form, report=None), 400
    query: dict[str, object] = {}
    if form.member_id.data is not None:
        query["member_id"] = form.member_id.data
    if typed := (form.identifier.data or "").strip():
        # Every reading the lookup form would make of it: one link value each.
        query["identifier_hash"] = typed_hashes(typed)
    return redirect(url_for("audit.member_report", **query), code=303)


@bp.get("/audit/member")
def member_report() -> tuple[str, int]:
    """The form, or the report for the member the link names (audited before it is shown)."""
    if "identifier" in request.args:
        abort(400, description="Type the identifier into the report's form, not a link.")
    form = MemberReportForm(request.args, meta={"csrf": False})
    if not request.args:
        return render_template("audit/member_report.html", form=form, report=None), 200
    hashes = link_hashes(request.args.getlist("identifier_hash"))
    if not form.validate() or hashes is None:
        if hashes is None and not form.identifier_hash.errors:
            form.identifier_hash.errors = ["This link is damaged."]
        return render_template("audit/member_report.html", form=form, report=None), 400
    resolved = resolved_members(hashes)
    records = _records(form.member_id.data, hashes, resolved)
    try:
        record_export(
            member_id=form.member_id.data,
            rows=len(records),
            kind="report",
            # The first reading of what was typed; every reading in the filters.
            identifier_hash=hashes[0] if hashes else None,
            filters=urlencode([("identifier_hash", digest) for digest in hashes]) or None,
        )
    except AuditUnavailable:
        abort(503, description="The audit trail cannot be written, so the report cannot be made.")
    staff = current_staff()
    report = MemberReport(
        member_id=form.member_id.data,
        by_identifier=bool(hashes),
        resolved=[m for m in resolved if m != form.member_id.data],
        kinds=count_kinds(records),
        records=records,
        summaries=summarise(records),
        made_at=utcnow(),
        made_by=staff.username if staff else "",
        oldest_kept=_oldest_kept(),
        retention_days=current_app.config["AUDIT_RETENTION_DAYS"],
        capped=len(records) >= current_app.config["AUDIT_EXPORT_MAX_ROWS"],
    )
    return render_template("audit/member_report.html", form=form, report=report), 200
