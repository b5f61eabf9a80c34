"""Self-service: set a password from a setup link, change my password, choose my time zone."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_user
from werkzeug.wrappers import Response

from app.auth import preferences, staffing, trail
from app.auth.access import current_staff, requires
from app.auth.blueprint import bp
from app.auth.models import StaffUser
from app.auth.staff_forms import ChangePasswordForm, NewPasswordForm, TimeZoneForm
from app.dbtypes import utcnow
from app.extensions import db

DESK_DEFAULT = ""


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
    if form.validate_on_submit():
        staffing.set_password_from_link(user, form.password.data)
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
        if staff.check_password(form.current.data):
            staffing.change_own_password(staff, form.password.data)
            # The new session version ends every other session; this one carries on under it
            # (its other keys, such as when it signed in, are kept).
            login_user(staff)
            flash("Your password is changed. Your other sessions have ended.", "info")
            return redirect(url_for("auth.account"), code=303)
        form.current.errors = [*form.current.errors, "That is not your current password."]
    chosen = preferences.chosen_zone_name(staff.username)
    return _account_page(form, _zone_form(formdata=None, timezone=chosen or DESK_DEFAULT), 400)


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
