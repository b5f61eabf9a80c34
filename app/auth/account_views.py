"""Self-service: set a password from a setup link, change my password, choose my time zone."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user
from werkzeug.wrappers import Response

from app.auth import preferences, staffing, throttle, trail
from app.auth.access import current_staff, requires
from app.auth.blueprint import bp
from app.auth.models import StaffUser
from app.auth.staff_forms import ChangePasswordForm, NewPasswordForm, TimeZoneForm
from app.auth.views import LOCKED, SLOWED
from app.dbtypes import utcnow
from app.extensions import db

DESK_DEFAULT = ""

logger = logging.getLogger(__name__)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def setup(token: str) -> Response | tuple[str, int]:
    """The one-time link: the account's owner chooses a password, then signs in."""
    if current_app.config["AUTH_MODE"] != "local":
        abort(404)
    user, in_time = staffing.user_for_link(token)
    if user is None:
        # Said in words, not a plain "page not found": the owner learns what to do next.
        return render_template("auth/setup_used.html"), 404
    if not in_time:
        return render_template("auth/setup_expired.html"), 410
    form = NewPasswordForm()
    if form.validate_on_submit() and form.acceptable_for(user.username):
        if not staffing.set_password_from_link(user, token, form.password.data):
            # Another request with this link got there first.
            abort(404, description="This link is not valid: it was used already or replaced.")
        flash("Your password is set. Sign in with it now.", "info")
        return redirect(url_for("auth.login"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/setup.html", form=form, user=user), status


def _zone_form(**kwargs: object) -> TimeZoneForm:
    form = TimeZoneForm(**kwargs)
    default = preferences.desk_zone()
    label = f"The desk's default ({default.key})" if default else "The desk's default (UTC)"
    form.timezone.choices = [(DESK_DEFAULT, label)] + [(n, n) for n in preferences.zone_names()]
    return form


def _account_page(
    password_form: ChangePasswordForm, zone_form: TimeZoneForm, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "auth/account.html",
        password_form=password_form,
        zone_form=zone_form,
        now=utcnow(),
    ), status


@bp.get("/account")
@requires("agent")
def account() -> tuple[str, int]:
    """My account: password and display time zone."""
    staff = current_staff()
    chosen = preferences.chosen_zone_name(staff.username) if staff else None
    zone_form = _zone_form(formdata=None, timezone=chosen or DESK_DEFAULT)
    return _account_page(ChangePasswordForm(formdata=None), zone_form)


@bp.post("/account/password")
@requires("agent")
def change_password() -> Response | tuple[str, int]:
    """Change my own password; I stay signed in here, my other sessions end."""
    staff = current_staff()
    if current_app.config["AUTH_MODE"] != "local" or not isinstance(staff, StaffUser):
        abort(404, description="Passwords are managed by single sign-on here.")
    form = ChangePasswordForm()
    if form.validate_on_submit():
        refused = _change_refused(staff.username)
        if refused is not None:
            form.current.errors = [*form.current.errors, refused[0]]
            chosen = preferences.chosen_zone_name(staff.username)
            zone_form = _zone_form(formdata=None, timezone=chosen or DESK_DEFAULT)
            return _account_page(form, zone_form, refused[1])
        address = request.remote_addr or "unknown"
        if not staff.check_password(form.current.data):
            # Throttled like sign-in: the same failures count towards the account's lock.
            throttle.record_attempt(staff.username, address, succeeded=False)
            logger.warning(
                "Wrong current password on a password change by %s from %s",
                staff.username,
                address,
            )
            form.current.errors = [*form.current.errors, "That is not your current password."]
        elif form.acceptable_for(staff.username):
            throttle.record_attempt(staff.username, address, succeeded=True)
            staffing.change_own_password(staff, form.password.data)
            logger.info("Staff %s changed their password from %s", staff.username, address)
            # The new session version ends every other session; this one carries on under it
            # (its other keys, such as when it signed in, are kept).
            login_user(staff)
            flash("Your password is changed. Your other sessions have ended.", "info")
            return redirect(url_for("auth.account"), code=303)
    chosen = preferences.chosen_zone_name(staff.username)
    return _account_page(form, _zone_form(formdata=None, timezone=chosen or DESK_DEFAULT), 400)


def _change_refused(username: str) -> tuple[str, int] | None:
    """The sign-in throttle's refusal of another try at the current password, if any."""
    address = request.remote_addr or "unknown"
    if wait := throttle.address_wait_seconds(address):
        logger.warning("Password change slowed down: too many failures from %s", address)
        return SLOWED.format(seconds=wait), 429
    if throttle.is_locked(username):
        logger.warning("Password change refused while locked: %s from %s", username, address)
        return LOCKED.format(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]), 429
    return None


@bp.post("/account/timezone")
@requires("agent")
def change_timezone() -> Response | tuple[str, int]:
    """Choose the zone every time on every page is shown in."""
    staff = current_staff()
    if staff is None:
        abort(401)
    form = _zone_form()
    if not form.validate_on_submit():
        return _account_page(ChangePasswordForm(formdata=None), form, 400)
    chosen = form.timezone.data or None
    preferences.save_zone(staff.username, chosen)
    trail.note("time zone", staff.username, chosen or "desk default", actor=staff.username)
    db.session.commit()
    flash(f"Times are now shown in {chosen or 'the desk default zone'}.", "info")
    return redirect(url_for("auth.account"), code=303)
