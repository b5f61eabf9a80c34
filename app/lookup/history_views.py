"""History: where a member's points went, one click from the member page. One upstream call
(a page of the ledger) made only when it is opened, and an audited view of its own."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, g, render_template, request
from werkzeug.wrappers import Response

from app.clock import business_zone, today
from app.extensions import db, limiter
from app.lookup import identifiers, remembered
from app.lookup.audited import OUTCOME_KEY, outcome_of, record_history
from app.lookup.blueprint import bp
from app.lookup.bulkhead import bounded
from app.lookup.fetching.ledger import MAX_PAGE, MAX_WINDOW_DAYS, LedgerRequest, fetch_ledger
from app.lookup.fetching.service import get_service
from app.lookup.page.history import build_history


class WindowError(ValueError):
    """The History link's dates or page cannot be used; the message says why."""


def _member_page_limit() -> str:
    return current_app.config["MEMBER_PAGE_RATE_LIMIT"]


def history_window(args: dict[str, str], now_day: date, default_days: int) -> LedgerRequest:
    """from, to (YYYY-MM-DD, in the past 60 days at most apart) and page from the link."""
    end = _day(args.get("to"), "end") or now_day
    try:
        start = _day(args.get("from"), "start") or end - timedelta(days=default_days - 1)
    except OverflowError as exc:  # an end in year 1 has no days before it
        raise WindowError("The end date is too early.") from exc
    if end > now_day:
        raise WindowError("The end date cannot be after today.")
    if start > end:
        raise WindowError("The start date must be on or before the end date.")
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise WindowError(
            f"Capillary shows at most {MAX_WINDOW_DAYS} days of history at a time: "
            "choose a shorter range."
        )
    raw_page = args.get("page") or "0"
    if not (raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 5):
        raise WindowError("The page in this link is not a page number.")
    page = int(raw_page)
    if page > MAX_PAGE:
        raise WindowError("The page in this link is not a page number.")
    return LedgerRequest(0, start, end, page)


def _day(raw: str | None, which: str) -> date | None:
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise WindowError(f"The {which} date is not a date: write it as YYYY-MM-DD.") from exc


@bp.get("/members/<int:member_id>/history")
@limiter.limit(_member_page_limit)
@bounded
def history(member_id: int) -> Response | tuple[str, int] | str:
    """The member's points ledger, newest first, a page at a time, within a date window."""
    config = current_app.config
    if not 0 < member_id <= identifiers.MAX_CUSTOMER_ID:
        return render_template("lookup/bad_link.html", message="That is not a member id."), 404
    now_day = today()
    try:
        window = history_window(request.args.to_dict(), now_day, config["HISTORY_DEFAULT_DAYS"])
    except WindowError as exc:
        end = now_day
        start = end - timedelta(days=config["HISTORY_DEFAULT_DAYS"] - 1)
        page = render_template(
            "lookup/history.html",
            member_id=member_id,
            history=None,
            window_error=str(exc),
            start=request.args.get("from") or start.isoformat(),
            end=request.args.get("to") or end.isoformat(),
            today=now_day,
        )
        return page, 400
    wanted = LedgerRequest(member_id, window.start, window.end, window.page)
    # No database connection is held while the upstream answers (see audited.py).
    db.session.commit()
    fetched = fetch_ledger(
        get_service(),
        wanted,
        source=config["CAPILLARY_SOURCE"],
        account_id=config.get("CAPILLARY_ACCOUNT_ID"),
    )
    g.upstream_calls = fetched.upstream_calls
    error = fetched.outcome.error
    setattr(g, OUTCOME_KEY, outcome_of(error))
    recorded = record_history(
        member_id,
        error,
        start=wanted.start,
        end=wanted.end,
        upstream_ms=fetched.upstream_ms,
        reason=remembered.reason_for(member_id),
    )
    if not recorded:
        return render_template("lookup/not_recorded.html"), 503
    shown = build_history(
        member_id,
        fetched.outcome,
        config["CAPILLARY_PROGRAMS"],
        start=wanted.start,
        end=wanted.end,
        page=wanted.page,
        zone=business_zone(config),
    )
    return render_template(
        "lookup/history.html",
        member_id=member_id,
        history=shown,
        window_error=None,
        start=wanted.start.isoformat(),
        end=wanted.end.isoformat(),
        today=now_day,
    )
