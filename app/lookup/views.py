"""Lookup views: the search form, the POST that finds a member, and the member page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.auth.access import current_staff
from app.capillary import Identifier, MemberLookup, MemberRef
from app.extensions import limiter
from app.lookup import bp, identifiers
from app.lookup.audited import AuditedLookup, look_up, record_refused
from app.lookup.failures import FormFailure, explain_failure
from app.lookup.forms import LookupForm
from app.lookup.page import MemberPage, build_page
from app.lookup.recent import RecentItem, recent_for
from app.lookup.scope import InvalidParameters, LookupParams, today
from app.lookup.service import MemberData, get_service
from app.lookup.summary import FROM_A_LINK, ticket_summary

SESSION_KEY = "looked_up"
VIEW_FORM_DATES = {"start_date", "end_date"}
# The member id a lookup POST just recorded and redirected to: its page is the same lookup,
# so it writes no second audit record.
JUST_RECORDED_KEY = "just_recorded"
# How many upstream calls the request made: for the benchmark and for operators' tools.
CALLS_HEADER = "X-Upstream-Calls"
BUSY_RETRY_SECONDS = 2

logger = logging.getLogger(__name__)


def bounded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view in one of the service's lookup slots, or answer a quick 503 "busy"."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with get_service().slot() as granted:
            if granted:
                return view(*args, **kwargs)
        logger.warning("lookup turned away: all %d lookup slots busy", get_service().max_concurrent)
        response = current_app.make_response((render_template("lookup/busy.html"), 503))
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response

    return wrapped


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
    return LookupForm(config["CAPILLARY_PROGRAMS"], config["CAPILLARY_DEFAULT_PROGRAM"], **kwargs)


def _member_ref(form: LookupForm) -> MemberRef:
    if form.identifier_type.data == identifiers.CUSTOMER_ID:
        return int(form.cleaned_identifier or "0")
    found = [Identifier(form.identifier_type.data, form.cleaned_identifier or "")]
    if form.cleaned_second:
        found.append(Identifier(form.second_identifier_type.data, form.cleaned_second))
    return MemberLookup(tuple(found), source=current_app.config["CAPILLARY_SOURCE"])


def _render_search(
    form: LookupForm, failure: FormFailure | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "lookup/search.html", form=form, failure=failure, recent=_recent()
    ), status


def _recent() -> list[RecentItem]:
    staff = current_staff()
    if staff is None:
        return []
    return recent_for(staff.username, current_app.config["CAPILLARY_PROGRAMS"])


@bp.get("/")
def search() -> tuple[str, int]:
    """The lookup form."""
    return _render_search(_form())


def _lookup_limit() -> str:
    return current_app.config["LOOKUP_RATE_LIMIT"]


def _member_page_limit() -> str:
    return current_app.config["MEMBER_PAGE_RATE_LIMIT"]


def _known_type(identifier_type: object) -> str:
    return identifier_type if identifier_type in identifiers.IDENTIFIER_TYPES else "invalid"


def _not_recorded() -> tuple[str, int]:
    return render_template("lookup/not_recorded.html"), 503


@bp.post("/lookup")
@limiter.limit(_lookup_limit)
@bounded
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
    result = _reported(
        look_up(
            _member_ref(form),
            params,
            identifier_type=form.identifier_type.data,
            identifier_value=form.cleaned_identifier or "",
        )
    )
    if not result.recorded:
        return _not_recorded()
    if result.error is not None:
        failure = explain_failure(result.error, form)
        return _render_search(form, failure, failure.status)
    data = result.data
    type_label = identifiers.IDENTIFIER_TYPES[form.identifier_type.data]
    session[SESSION_KEY] = {
        "member_id": data.member_id,
        "what": f"{type_label} {identifiers.mask(form.cleaned_identifier or '')}",
    }
    session[JUST_RECORDED_KEY] = data.member_id
    return redirect(url_for("lookup.member", member_id=data.member_id, **params.to_query()))


def _link_params(member_id: int) -> LookupParams | tuple[str, int]:
    """The deep link's program and dates, or the page saying what is wrong with the link."""
    config = current_app.config
    try:
        params = LookupParams.from_query(
            request.args,
            config["CAPILLARY_PROGRAMS"],
            config["CAPILLARY_DEFAULT_PROGRAM"],
            today(),
        )
    except InvalidParameters as exc:
        return render_template("lookup/bad_link.html", message=str(exc)), 400
    if not 0 < member_id <= identifiers.MAX_CUSTOMER_ID:
        return render_template("lookup/bad_link.html", message="That is not a member id."), 404
    return params


@bp.post("/members/<int:member_id>/refresh")
@limiter.limit(_member_page_limit)
@bounded
def refresh(member_id: int) -> Response | tuple[str, int]:
    """Refetch the member's figures past the cache, then show the same deep link (PRG)."""
    params = _link_params(member_id)
    if not isinstance(params, LookupParams):
        return params
    g.upstream_calls = get_service().fetch(member_id, params, refresh=True).upstream_calls
    return redirect(url_for("lookup.member", member_id=member_id, **params.to_query()))


@bp.get("/members/<int:member_id>")
@limiter.limit(_member_page_limit)
@bounded
def member(member_id: int) -> Response | tuple[str, int] | str:
    """The member page; a deep link that names no personal identifier."""
    if VIEW_FORM_DATES & request.args.keys():
        # The program/dates form on this page submits its fields' names; links say from/to.
        return redirect(url_for("lookup.member", member_id=member_id, **_link_query(request.args)))
    params = _link_params(member_id)
    if not isinstance(params, LookupParams):
        return params
    result = _reported(
        look_up(
            member_id,
            params,
            identifier_type=identifiers.CUSTOMER_ID,
            identifier_value=str(member_id),
            record=session.pop(JUST_RECORDED_KEY, None) != member_id,
        )
    )
    if not result.recorded:
        return _not_recorded()
    if result.error is not None:
        form = _form(
            formdata=None,
            identifier_type=identifiers.CUSTOMER_ID,
            identifier=str(member_id),
            program=str(params.program),
            start_date=params.start_date,
            end_date=params.end_date,
        )
        failure = explain_failure(result.error, form)
        return _render_search(form, failure, failure.status)
    data = result.data
    page = _page(data)
    looked_up = _looked_up(member_id)
    return render_template(
        "lookup/member.html",
        page=page,
        looked_up=looked_up,
        summary=ticket_summary(page, looked_up),
        view_form=_view_form(params),
    )


def _link_query(args: Mapping[str, str]) -> dict[str, str]:
    """The view form's query as the deep link's: from/to for the dates, empty ones left out."""
    query = {"program": args.get("program", ""), "from": args.get("start_date", "")}
    query["to"] = args.get("end_date", "")
    return {key: value for key, value in query.items() if value}


def _page(data: MemberData) -> MemberPage:
    config = current_app.config
    display_zone = ZoneInfo(config["DISPLAY_TIMEZONE"]) if config["DISPLAY_TIMEZONE"] else None
    return build_page(
        data,
        config["CAPILLARY_PROGRAMS"],
        display_zone=display_zone,
        as_of_zone=display_zone or ZoneInfo("UTC"),
    )


def _looked_up(member_id: int) -> str:
    """What this staff member typed to find the member, masked; or that a link was opened."""
    remembered = session.get(SESSION_KEY)
    if remembered and remembered.get("member_id") == member_id:
        return remembered.get("what") or FROM_A_LINK
    return FROM_A_LINK


def _view_form(params: LookupParams) -> LookupForm:
    """The program and date pickers on the member page, pre-set to the current view."""
    form = _form(formdata=None, meta={"csrf": False})
    form.program.data = str(params.program)
    form.start_date.data = params.start_date
    form.end_date.data = params.end_date
    return form
