"""Manager pages: the audit trail, filtered and paginated, and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as Redirect

from app.audit.blueprint import bp
from app.audit.forms import NO_REASON, AuditFilterForm
from app.audit.matching import identifier_match, link_hashes, resolved_members, typed_hashes
from app.audit.models import AuditRecord
from app.audit.service import AuditUnavailable, record_export
from app.auth.preferences import filter_zone, in_viewer_zone
from app.dbtypes import utcnow
from app.extensions import db, limiter
from app.validation import page_number

CSV_COLUMNS = (
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
    "reason",
    "upstream_ms",
    "filters",
)
# What links carry: the identifier filter only ever as identifier_hash (see search()).
FILTER_FIELDS = (
    "staff",
    "member_id",
    "identifier_hash",
    "date_from",
    "date_to",
    "outcome",
    "kind",
    "reason",
)


def reason_choices() -> list[str]:
    """The reasons the filter offers: the configured ones (a link may name an older one)."""
    return current_app.config["LOOKUP_REASONS"]


def _start_of(day: date) -> datetime:
    """The first moment of day in the zone the staff member reads times in, as UTC."""
    return datetime.combine(day, time(), filter_zone()).astimezone(UTC)


def _filtered(form: AuditFilterForm, hashes: list[str]) -> Select[tuple[AuditRecord]]:
    """The records matching the form's filters, newest first; hashes: the identifier's
    readings, which match the members they were recorded against too (app/audit/matching)."""
    query = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
    if form.staff.data and form.staff.data.strip():
        # By the start of the name, as the field's hint says (names are stored lower-case).
        prefix = form.staff.data.strip().lower()
        query = query.where(
            func.lower(AuditRecord.staff_username).startswith(prefix, autoescape=True)
        )
    if form.member_id.data is not None:
        query = query.where(AuditRecord.member_id == form.member_id.data)
    if hashes:
        query = query.where(identifier_match(hashes, resolved_members(hashes)))
    if form.date_from.data:
        query = query.where(AuditRecord.at >= _start_of(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditRecord.at < _start_of(form.date_to.data + timedelta(days=1)))
    if form.outcome.data:
        query = query.where(AuditRecord.outcome == form.outcome.data)
    if form.kind.data:
        query = query.where(AuditRecord.kind == form.kind.data)
    if form.reason.data == NO_REASON:
        query = query.where(AuditRecord.reason.is_(None))
    elif form.reason.data:
        query = query.where(AuditRecord.reason == form.reason.data)
    return query


def _filter_args(values: MultiDict[str, str]) -> dict[str, Any]:
    """The filters among values, to carry into page links and the export link."""
    found: dict[str, Any] = {k: v for k in FILTER_FIELDS if (v := values.get(k, "").strip())}
    if hashes := [v for v in values.getlist("identifier_hash") if v.strip()]:
        found["identifier_hash"] = hashes  # one per reading of the identifier typed
    return found


def _link_hashes(form: AuditFilterForm) -> list[str] | None:
    """The link's identifier readings; None (and the field's error) when one is damaged."""
    hashes = link_hashes(request.args.getlist("identifier_hash"))
    if hashes is None and not form.identifier_hash.errors:
        form.identifier_hash.errors = [
            "This link's identifier filter is damaged; clear it and type the identifier again."
        ]
    return hashes


def _audit_viewing(form: AuditFilterForm, filters: dict[str, Any], rows: int, kind: str) -> None:
    """Audit a filtered view or an export: whom it was about, and its other filters."""
    others = {k: v for k, v in filters.items() if k not in ("member_id", "identifier_hash")}
    record_export(
        member_id=form.member_id.data,
        rows=rows,
        kind=kind,
        identifier_hash=(form.identifier_hash.data or "").strip().lower() or None,
        filters=urlencode(sorted(others.items()))[:512],
    )


def _query_form() -> AuditFilterForm:
    """The filters in the query string (no CSRF: a GET changes nothing)."""
    if "identifier" in request.args:
        # An old link or a hand-made one: refuse it rather than silently show everything.
        abort(400, description="Type the identifier into the audit page's form, not a link.")
    return AuditFilterForm(request.args, meta={"csrf": False}).with_reasons(reason_choices())


@bp.get("/audit")
def index() -> tuple[str, int]:
    """The audit trail, newest first, filtered and paginated."""
    form = _query_form()
    valid = form.validate()
    hashes = _link_hashes(form)
    valid = valid and hashes is not None
    page = page_number(request.args)
    pagination = None
    if valid:
        assert hashes is not None
        pagination = db.paginate(
            _filtered(form, hashes),
            page=page,
            per_page=current_app.config["AUDIT_PAGE_SIZE"],
            error_out=False,
            count=True,
        )
    filters = _filter_args(request.args)
    if valid and filters:
        # A filtered view is a question about someone (a member, a staff member, a day):
        # audited like an export, with whom it was about and its other filters.
        try:
            _audit_viewing(form, filters, pagination.total or 0, "view")
        except AuditUnavailable:
            abort(503, description="The audit trail cannot be written, so it cannot be shown.")
    # Only a hand-edited or damaged link can carry invalid filters: the form posts first.
    return _render_page(form, pagination, filters if valid else None), 200 if valid else 400


@bp.post("/audit")
def search() -> Redirect | tuple[str, int]:
    """The filter form: hash a typed identifier, then redirect to a link without it."""
    form = AuditFilterForm().with_reasons(reason_choices())
    if not form.validate_on_submit():
        # Not even here does the identifier go back to the browser: it is typed again.
        form.identifier.data = form.identifier.raw_data = None
        return _render_page(form, None, None), 400
    filters = _filter_args(request.form)
    if typed := (form.identifier.data or "").strip():
        filters["identifier_hash"] = typed_hashes(typed)
    return redirect(url_for("audit.index", **filters), code=303)


def _render_page(form: AuditFilterForm, pagination: Any, filters: dict[str, Any] | None) -> str:
    """The audit page; filters are the applied ones, None when the form was not valid."""
    identifier_filtered = bool(form.identifier_hash.data) and not form.identifier_hash.errors
    without_identifier = {k: v for k, v in (filters or {}).items() if k != "identifier_hash"}
    return render_template(
        "audit/index.html",
        form=form,
        pagination=pagination,
        filters=filters or {},
        export_url=url_for("audit.export", **filters) if filters is not None else None,
        zone=filter_zone(),
        identifier_filtered=identifier_filtered,
        identifier_hashes=(filters or {}).get("identifier_hash", []),
        scope_words=_scope_words,
        clear_identifier_url=url_for("audit.index", **without_identifier),
    )


def _scope_words(scope: str) -> str:
    """A recorded program scope in words: "All programs", "Gold Club (2199)"."""
    if scope == "all":
        return "All programs"
    if scope == "default":
        return "Default program"
    if scope == "none":
        return "none (refused)"
    if scope.isdigit():
        name = current_app.config["CAPILLARY_PROGRAMS"].get(int(scope))
        return f"{name} ({scope})" if name else f"Program {scope}"
    return scope


def _csv_cell(value: object) -> str:
    """Text for one cell; a leading formula character is escaped for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # In the reader's zone, to the second, with its offset: what a spreadsheet reads.
        return in_viewer_zone(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    # ";" and "|" too: some spreadsheets read a cell starting with them as a formula or DDE.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r", ";", "|"):
        return "'" + text
    return text


def _export_limit() -> str:
    return current_app.config["AUDIT_EXPORT_RATE_LIMIT"]


@bp.get("/audit.csv")
@limiter.limit(_export_limit)
def export() -> Response:
    """The filtered audit trail as CSV; the export itself is audited first."""
    form = _query_form()
    hashes = _link_hashes(form) if form.validate() else None
    if hashes is None:
        abort(400, description="The filters are not valid; correct them on the audit page.")
    records = db.session.scalars(
        _filtered(form, hashes).limit(current_app.config["AUDIT_EXPORT_MAX_ROWS"])
    ).all()
    try:
        _audit_viewing(form, _filter_args(request.args), len(records), "export")
    except AuditUnavailable:
        abort(503, description="The audit trail cannot be written, so it cannot be exported.")

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_csv_cell(getattr(record, column)) for column in CSV_COLUMNS])
    filename = f"audit-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
