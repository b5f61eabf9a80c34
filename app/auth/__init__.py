"""Staff access: sign-in (local accounts or SSO proxy headers), roles and the staff CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Request, current_app

from app.extensions import db, login_manager

if TYPE_CHECKING:
    from app.auth.models import ProxyStaff, StaffUser

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    """Wire Flask-Login, the global sign-in guard, cookie settings and the users CLI."""
    from app.auth import access, cli

    if app.config.get("SESSION_COOKIE_SECURE") is None:
        # Plain http only where a developer runs it locally, and in tests.
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)

    app.before_request(access.guard)
    app.add_template_global(access.current_staff)
    app.add_template_global(access.home_url)
    app.cli.add_command(cli.users)


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """Session cookie -> staff account; None if disabled or its sessions were revoked."""
    from app.auth.models import StaffUser

    if current_app.config["AUTH_MODE"] != "local":
        return None
    row_id, _, version = user_id.partition(".")
    try:
        user = db.session.get(StaffUser, int(row_id))
    except ValueError:
        return None
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


@login_manager.request_loader
def load_user_from_request(request: Request) -> ProxyStaff | None:
    """In proxy mode, every request names its user in headers set by the SSO proxy."""
    from app.auth.access import staff_from_proxy_headers

    if current_app.config["AUTH_MODE"] != "proxy":
        return None
    return staff_from_proxy_headers()


from app.auth import views  # noqa: E402, F401
