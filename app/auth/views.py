"""Sign in, sign out, and the staff list for admins."""

from __future__ import annotations

import logging
from functools import cache

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from app.auth import resume, throttle
from app.auth.access import (
    LAST_SEEN_KEY,
    SIGNED_IN_KEY,
    current_staff,
    home_url,
    requires,
    safe_next,
)
from app.auth.blueprint import bp
from app.auth.forms import LoginForm
from app.auth.models import StaffUser, normalise_username
from app.dbtypes import utcnow
from app.extensions import db

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "The user name or password is not right, or the account cannot sign in."
LOCKED = (
    "Too many failed attempts to sign in. Wait {minutes} minutes, then try again, "
    "or ask an admin for help."
)
SLOWED = "Too many failed sign-ins from your network. Wait {seconds} seconds, then try again."


@cache
def _dummy_hash(method: str) -> str:
    """A hash to check against when the account does not exist, so timing tells nothing."""
    return generate_password_hash("not-a-real-password", method=method)


def _password_matches(user: StaffUser | None, password: str) -> bool:
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return user.check_password(password)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the sign-in form; on success go to `next` (a path on this site) or home."""
    next_url = safe_next(request.args.get("next"))
    if current_app.config["AUTH_MODE"] != "local" or current_staff() is not None:
        return redirect(next_url or home_url())

    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        username = normalise_username(form.username.data)
        address = request.remote_addr or "unknown"
        wait = throttle.address_wait_seconds(address)
        if wait:
            logger.warning("Sign-in slowed down: too many failures from %s", address)
            error, status = SLOWED.format(seconds=wait), 429
        elif throttle.is_locked(username):
            logger.warning(
                "Sign-in refused while locked: %s from %s", throttle.masked_name(username), address
            )
            minutes = current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]
            error, status = LOCKED.format(minutes=minutes), 429
        else:
            user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
            if _password_matches(user, form.password.data) and user and user.is_active:
                throttle.record_attempt(username, address, succeeded=True)
                user.last_login_at = utcnow()
                db.session.commit()
                kept = resume.carry_over()  # what was typed when the session ended, if any
                session.clear()  # nothing else from before sign-in carries over
                resume.keep_for(kept)
                login_user(user)
                session[LAST_SEEN_KEY] = session[SIGNED_IN_KEY] = int(utcnow().timestamp())
                logger.info("Staff %s signed in from %s", username, address)
                return redirect(next_url or home_url())
            throttle.record_attempt(username, address, succeeded=False)
            logger.warning("Failed sign-in for %s from %s", throttle.masked_name(username), address)
            error, status = BAD_CREDENTIALS, 200
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.post("/logout")
@requires("agent")
def logout() -> Response:
    """Sign out (a POST carrying the CSRF token, so no other site can sign staff out)."""
    staff = current_staff()
    if current_app.config["AUTH_MODE"] != "local":
        return redirect(home_url())
    if isinstance(staff, StaffUser):
        # Server-side: a copy of the cookie taken before signing out no longer opens pages.
        # (Every session of this account ends, as on a password change.)
        staff.session_version += 1
        db.session.commit()
    logout_user()
    session.clear()
    if staff is not None:
        logger.info("Staff %s signed out", staff.username)
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/admin/staff")
@requires("admin")
def staff() -> str:
    """Every local staff account and its state, for admins; in proxy mode only how many
    there are, as none of them can sign in."""
    if current_app.config["AUTH_MODE"] == "proxy":
        count = db.session.scalar(select(func.count()).select_from(StaffUser)) or 0
        return render_template("auth/staff.html", users=[], local_accounts=count)
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
    return render_template("auth/staff.html", users=users, local_accounts=len(users))
