"""Lookup views: the search form, the POST that finds a member, and the member page."""

from __future__ import annotations

import logging
from datetime import date
from typing import TypeVar

from flask import current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app import clock, metrics
from app.auth import resume
from app.auth.access import current_staff
from app.auth.preferences import viewer_zone
from app.capillary import CapillaryError, Identifier
from app.clock import business_zone, today
from app.extensions import limiter
from app.lookup import identifiers, receipts, remembered
from app.lookup.attempts import look_up_candidates
from app.lookup.audited import AuditedLookup, look_up, record_refused
from app.lookup.blueprint import bp
from app.lookup.bulkhead import TurnedAway, bounded
from app.lookup.failures import FormFailure, explain_failure, out_of_time
from app.lookup.fetching.outcome import MemberData
from app.lookup.fetching.scope import VIEW_FORM_DATES, InvalidParameters, LookupParams
from app.lookup.forms import LookupForm
from app.lookup.member_forms import NextCallerForm, ViewForm
from app.lookup.page.model import MemberPage, build_page
from app.lookup.page.summary import ticket_summary
from app.lookup.recent import RecentItem, last_program, recent_for

# The token of the receipt a lookup POST stored for the page it redirects to: that page is
# the same lookup, so it writes no second audit record (see app/lookup/receipts.py).
JUST_RECORDED_KEY = "just_recorded"
# How many upstream calls the request made: for the benchmark and for operators' tools.
CALLS_HEADER = "X-Upstream-Calls"

logger = logging.getLogger(__name__)
# The page saying what is wrong with a deep link, and its status.
BadLink = tuple[str, int]
# A form with a program choice: the lookup form, or the member page's next-caller box.
F = TypeVar("F", LookupForm, NextCallerForm)


def _reported(result: AuditedLookup) -> AuditedLookup:
    # How many upstream calls this request made, for the X-Upstream-Calls header.
    g.upstream_calls = result.data.upstream_calls
    return result


@bp.after_request
def _report_calls(response: Response) -> Response:
    calls = g.get("upstream_calls")
    if calls is not None:
        response.headers[CALLS_HEADER] = str(calls)
    return response


def _form(**kwargs) -> LookupForm:
    config = current_app.config
    return LookupForm(
        config["CAPILLARY_PROGRAMS"],
        config["CAPILLARY_DEFAULT_PROGRAM"],
        config["LOOKUP_DEFAULT_COUNTRY_CODE"],
        **kwargs,
    )


def _second(form: LookupForm) -> Identifier | None:
    if not form.cleaned_second:
        return None
    return Identifier(form.second_identifier_type.data, form.cleaned_second)


def _render_search(
    form: LookupForm,
    failure: FormFailure | None = None,
    status: int = 200,
    notice: str | None = None,
    with_recent: bool = True,
    turned_away: TurnedAway | None = None,
) -> tuple[str, int]:
    recent = _recent() if with_recent else []
    page = render_template(
        "lookup/search.html",
        form=form,
        failure=failure,
        notice=notice,
        recent=recent,
        turned_away=turned_away,
    )
    return page, status


def _busy_search(turned_away: TurnedAway) -> tuple[str, int]:
    """All lookup slots are taken, or the upstream budget is spent: the lookup form back
    with what was just typed in it."""
    return _render_search(_form(), status=503, notice=turned_away.notice, turned_away=turned_away)


def _recent() -> list[RecentItem]:
    staff = current_staff()
    if staff is None:
        return []
    return recent_for(staff.username, current_app.config["CAPILLARY_PROGRAMS"])


def _start_program(form: F, last: str | None) -> F:
    """Start the program on the staff member's last choice (the program scope of their last
    lookup), else LOOKUP_DEFAULT_PROGRAM."""
    offered = {str(choice.value) for choice in form.program.choices}
    for choice in (last, current_app.config["LOOKUP_DEFAULT_PROGRAM"]):
        if choice in offered:
            form.program.data = choice
            break
    return form


# What the lookup form keeps over a sign-in when the idle limit ends the session on Enter.
RESUMED_FIELDS = (
    "identifier_type",
    "identifier",
    "program",
    "start_date",
    "end_date",
    "second_identifier_type",
    "second_identifier",
    "reason",
)


@bp.get("/")
def search() -> tuple[str, int]:
    """The lookup form; after a sign-in that ended a lookup, filled in as it was typed."""
    staff = current_staff()
    kept = resume.take("lookup.submit", staff.username) if staff is not None else None
    if kept is None:
        last = last_program(staff.username) if staff is not None else None
        return _render_search(_start_program(_form(), last))
    form = _form(formdata=None, data=_kept_data(kept))
    return _render_search(form, notice="lookup/_resumed_notice.html")


def _kept_data(kept: dict[str, str]) -> dict[str, object]:
    """The kept fields as the form's data (dates read back, bad ones left out)."""
    data: dict[str, object] = {k: v for k, v in kept.items() if k not in VIEW_FORM_DATES}
    for name in VIEW_FORM_DATES:
        try:
            data[name] = date.fromisoformat(kept.get(name, ""))
        except ValueError:
            data[name] = None
    return data


resume.register("lookup.submit", page=lambda: url_for("lookup.search"), keep=RESUMED_FIELDS)
resume.register(
    "lookup.refresh",
    page=lambda: url_for(
        "lookup.member", member_id=request.view_args["member_id"], **request.args.to_dict()
    ),
)


def _lookup_limit() -> str:
    return current_app.config["LOOKUP_RATE_LIMIT"]


def _member_page_limit() -> str:
    return current_app.config["MEMBER_PAGE_RATE_LIMIT"]


def _refresh_limit() -> str:
    # A refresh skips the cache and costs every call of a lookup: limited far below page views.
    return current_app.config["REFRESH_RATE_LIMIT"]


def _known_type(identifier_type: object) -> str:
    return identifier_type if identifier_type in identifiers.IDENTIFIER_TYPES else "invalid"


def _not_recorded() -> tuple[str, int]:
    return render_template("lookup/not_recorded.html"), 503


@bp.post("/lookup")
@limiter.limit(_lookup_limit)
@bounded(when_busy=_busy_search)
def submit() -> Response | tuple[str, int]:
    """Find the member in one round of upstream calls, then redirect to their deep link."""
    form = _form()
    if not form.validate_on_submit():
        if "csrf_token" not in form.errors:
            record_refused(_known_type(form.identifier_type.data))
        return _render_search(form, status=400)
    params = LookupParams.from_form_value(
        form.program.data,
        form.start_date.data,
        form.end_date.data,
        current_app.config["CAPILLARY_DEFAULT_PROGRAM"],
    )
    attempts = look_up_candidates(
        form.candidates,
        params,
        second=_second(form),
        source=current_app.config["CAPILLARY_SOURCE"],
        reason=form.chosen_reason(),
        receipt=True,
    )
    result = _reported(attempts.result)
    if not result.recorded:
        # The recent list is read from the audit trail, which just failed to take a write.
        notice = "lookup/_not_recorded_notice.html"
        return _render_search(form, status=503, notice=notice, with_recent=False)
    if result.error is not None:
        failure = out_of_time(result.error, attempts.tried, attempts.untried, form)
        failure = failure or explain_failure(result.error, form, attempts.tried, result.data)
        return _render_search(form, failure, failure.status)
    data = result.data
    matched = attempts.matched
    remembered.remember(
        data.member_id,
        f"{matched.label} {identifiers.mask(matched.value)}",
        found_by=matched.words if form.auto else None,
        reason=form.chosen_reason(),
    )
    # Written with the audit record, in its commit.
    session[JUST_RECORDED_KEY] = result.receipt
    return redirect(url_for("lookup.member", member_id=data.member_id, **params.to_query()))


def _link_params(member_id: int) -> tuple[LookupParams, InvalidParameters | None] | BadLink:
    """The deep link's program and dates with any bad date (the page shows it on its own
    date fields), or the page saying what is wrong with the link."""
    config = current_app.config
    try:
        parsed = LookupParams.from_link(
            request.args, config["CAPILLARY_PROGRAMS"], config["CAPILLARY_DEFAULT_PROGRAM"], today()
        )
    except InvalidParameters as exc:
        return render_template("lookup/bad_link.html", message=str(exc)), 400
    if not 0 < member_id <= identifiers.MAX_CUSTOMER_ID:
        return render_template("lookup/bad_link.html", message="That is not a member id."), 404
    return parsed


@bp.post("/members/<int:member_id>/refresh")
@limiter.limit(_member_page_limit)
@limiter.limit(_refresh_limit)
@bounded
def refresh(member_id: int) -> Response | tuple[str, int]:
    """Refetch the member's figures past the cache, then show the same deep link (PRG).

    An audited lookup like any other: its record is written here, and the page it redirects
    to is shown on this lookup's receipt, so it writes no second one.
    """
    parsed = _link_params(member_id)
    if isinstance(parsed[0], str):
        return parsed
    params, date_error = parsed
    if date_error is not None:
        return render_template("lookup/bad_link.html", message=str(date_error)), 400
    if _needs_reason(member_id):
        # Nothing is fetched without a reason: the page asks for it.
        return redirect(url_for("lookup.member", member_id=member_id, **params.to_query()))
    result = _look_up_by_id(member_id, params, refresh=True, receipt=True)
    if not result.recorded:
        return _not_recorded()
    if result.error is None:
        session[JUST_RECORDED_KEY] = result.receipt
    return redirect(url_for("lookup.member", member_id=member_id, **params.to_query()))


def _look_up_by_id(member_id: int, params: LookupParams, **options: bool) -> AuditedLookup:
    """The audited lookup of a member page (a link, a reload or a refresh): by customer id,
    with the reason this session gave when it looked the member up."""
    return _reported(
        look_up(
            member_id,
            params,
            identifier_type=identifiers.CUSTOMER_ID,
            identifier_value=str(member_id),
            reason=remembered.reason_for(member_id),
            **options,
        )
    )


@bp.get("/members/<int:member_id>")
@limiter.limit(_member_page_limit)
@bounded
def member(member_id: int) -> Response | tuple[str, int] | str:
    """The member page; a deep link that names no personal identifier."""
    if VIEW_FORM_DATES & request.args.keys():
        # The program/dates form on this page submits its fields' names; links say from/to.
        query = LookupParams.link_query(request.args)
        return redirect(url_for("lookup.member", member_id=member_id, **query))
    parsed = _link_params(member_id)
    if isinstance(parsed[0], str):
        return parsed
    params, date_error = parsed
    if _needs_reason(member_id):
        # A link, a bookmark or a colleague's deep link: nothing is fetched (or shown) until
        # the staff member says why, and the reason is then recorded with the lookup.
        return _reason_prompt(member_id, params)
    # Read, not removed: the receipt is used up on the server (receipts.redeem deletes it), so
    # the cookie keeps a dead token until the next lookup replaces it, and the page sends no
    # new session cookie (a signature, and a Set-Cookie the browser parses, per lookup).
    receipt = session.get(JUST_RECORDED_KEY)
    result = _look_up_by_id(
        member_id, params, record=not receipts.redeem(receipt, _staff_name(), member_id, params)
    )
    if not result.recorded:
        return _not_recorded()
    if result.error is not None:
        return _member_failure(member_id, params, result.error, result.data)
    if result.data.stale:
        metrics.stale_page()
    html = _member_html(result.data, date_error)
    return (html, 400) if date_error is not None else html


def _needs_reason(member_id: int) -> bool:
    """Whether the desk asks for reasons and none was given in this session's lookup of the
    member."""
    return bool(current_app.config["LOOKUP_REASONS"]) and not remembered.reason_for(member_id)


def _reason_prompt(
    member_id: int, params: LookupParams, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The member page asking only for the reason of the lookup, no figures."""
    page = render_template(
        "lookup/member.html",
        reason_prompt=True,
        member_id=member_id,
        reasons=current_app.config["LOOKUP_REASONS"],
        reason_action=url_for("lookup.give_reason", member_id=member_id, **params.to_query()),
        reason_error=error,
    )
    return page, status


@bp.post("/members/<int:member_id>/reason")
@limiter.limit(_member_page_limit)
def give_reason(member_id: int) -> Response | tuple[str, int]:
    """The reason for looking a member up from a link; then the page, which looks them up."""
    parsed = _link_params(member_id)
    if isinstance(parsed[0], str):
        return parsed
    params, _ = parsed
    reason = request.form.get("reason", "")
    if reason not in current_app.config["LOOKUP_REASONS"]:
        return _reason_prompt(member_id, params, "Choose why you are looking this member up.", 400)
    remembered.give_reason(member_id, reason)
    return redirect(url_for("lookup.member", member_id=member_id, **params.to_query()))


def _member_failure(
    member_id: int, params: LookupParams, error: CapillaryError, data: MemberData | None = None
) -> tuple[str, int]:
    """The search page, filled in for this member, saying why their page cannot be shown."""
    form = _form(
        formdata=None,
        identifier_type=identifiers.CUSTOMER_ID,
        identifier=str(member_id),
        program=str(params.program),
        start_date=params.start_date,
        end_date=params.end_date,
    )
    failure = explain_failure(error, form, data=data)
    return _render_search(form, failure, failure.status)


def _member_html(data: MemberData, date_error: InvalidParameters | None) -> str:
    """The member page, with a deep link's bad date shown on its own date fields."""
    page = _page(data)
    looked_up = remembered.looked_up(page.member_id)
    config = current_app.config
    programs, default_program = config["CAPILLARY_PROGRAMS"], config["CAPILLARY_DEFAULT_PROGRAM"]
    view_form = ViewForm(programs, default_program, data.params)
    if date_error is not None:
        view_form.show_link_date_error(date_error, request.args)
    return render_template(
        "lookup/member.html",
        page=page,
        looked_up=looked_up,
        found_by=remembered.found_by(page.member_id),
        summary=ticket_summary(page, looked_up),
        view_form=view_form,
        date_error=date_error is not None,
        # Its program starts on this page's: the page's lookup is the staff member's last
        # (its record was just written, by this page or by the lookup that redirected here).
        next_form=_start_program(
            NextCallerForm(programs, default_program), data.params.audit_scope
        ),
    )


def _staff_name() -> str:
    staff = current_staff()
    return staff.username if staff is not None else ""


def _page(data: MemberData) -> MemberPage:
    config = current_app.config
    display_zone = viewer_zone()
    return build_page(
        data,
        config["CAPILLARY_PROGRAMS"],
        display_zone=display_zone,
        # The zone whose date is "today": "as of", "in N days" and the dates agree.
        as_of_zone=business_zone(config),
        now=clock.now(),
        locale=config["NUMBER_LOCALE"],
        full_name=_sees_full_name(),
        soon_days=config["EXPIRY_SOON_DAYS"],
        dual_eligibility=config["CAPILLARY_DUAL_ELIGIBILITY"],
    )


def _sees_full_name() -> bool:
    """Whether this staff member's role may see members' full names (MEMBER_NAME_ROLES)."""
    staff = current_staff()
    return staff is not None and staff.role in current_app.config["MEMBER_NAME_ROLES"]
