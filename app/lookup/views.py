"""Lookup views: the search form, the POST that finds a member, and the member page."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.capillary import Identifier, MemberLookup, MemberRef
from app.lookup import bp, identifiers
from app.lookup.failures import FormFailure, blocking_error, explain_failure
from app.lookup.forms import LookupForm
from app.lookup.page import build_page
from app.lookup.scope import InvalidParameters, LookupParams
from app.lookup.service import MemberData, get_service

SESSION_KEY = "looked_up"


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


def _render_search(form: LookupForm, failure: FormFailure | None = None, status: int = 200):
    return render_template("lookup/search.html", form=form, failure=failure), status


@bp.get("/")
def search():
    """The lookup form."""
    return _render_search(_form())


@bp.post("/lookup")
def submit():
    """Find the member in one round of upstream calls, then redirect to their deep link."""
    form = _form()
    if not form.validate_on_submit():
        return _render_search(form, status=400)
    params = LookupParams.from_form_value(
        form.program.data,
        form.start_date.data,
        form.end_date.data,
        current_app.config["CAPILLARY_DEFAULT_PROGRAM"],
    )
    data = get_service().fetch(_member_ref(form), params)
    error = blocking_error(data)
    if error is not None:
        failure = explain_failure(error, form)
        return _render_search(form, failure, failure.status)
    type_label = identifiers.IDENTIFIER_TYPES[form.identifier_type.data]
    session[SESSION_KEY] = {
        "member_id": data.member_id,
        "what": f"{type_label} {identifiers.mask(form.cleaned_identifier or '')}",
    }
    return redirect(url_for("lookup.member", member_id=data.member_id, **params.to_query()))


@bp.get("/members/<int:member_id>")
def member(member_id: int) -> Response | tuple[str, int] | str:
    """The member page; a deep link that names no personal identifier."""
    config = current_app.config
    try:
        params = LookupParams.from_query(
            request.args,
            config["CAPILLARY_PROGRAMS"],
            config["CAPILLARY_DEFAULT_PROGRAM"],
            date.today(),
        )
    except InvalidParameters as exc:
        return render_template("lookup/bad_link.html", message=str(exc)), 400
    if not 0 < member_id <= identifiers.MAX_CUSTOMER_ID:
        return render_template("lookup/bad_link.html", message="That is not a member id."), 404
    data = get_service().fetch(member_id, params)
    error = blocking_error(data)
    if error is not None:
        form = _form(
            formdata=None,
            identifier_type=identifiers.CUSTOMER_ID,
            identifier=str(member_id),
            program=str(params.program),
            start_date=params.start_date,
            end_date=params.end_date,
        )
        failure = explain_failure(error, form)
        return _render_search(form, failure, failure.status)
    return render_template(
        "lookup/member.html",
        page=_page(data),
        looked_up=_looked_up(member_id),
        view_form=_view_form(params),
    )


def _page(data: MemberData):
    config = current_app.config
    display_zone = ZoneInfo(config["DISPLAY_TIMEZONE"]) if config["DISPLAY_TIMEZONE"] else None
    return build_page(
        data,
        config["CAPILLARY_PROGRAMS"],
        display_zone=display_zone,
        as_of_zone=display_zone or ZoneInfo("UTC"),
    )


def _looked_up(member_id: int) -> str | None:
    remembered = session.get(SESSION_KEY)
    if remembered and remembered.get("member_id") == member_id:
        return remembered.get("what")
    return None


def _view_form(params: LookupParams) -> LookupForm:
    """The program and date pickers on the member page, pre-set to the current view."""
    form = _form(formdata=None, meta={"csrf": False})
    form.program.data = str(params.program)
    form.start_date.data = params.start_date
    form.end_date.data = params.end_date
    return form
