"""Staff access: sign-in (local accounts or SSO proxy headers), roles and the staff CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Request, current_app

from app.auth.blueprint import bp
from app.extensions import login_manager

__all__ = ["bp", "init_app"]

if TYPE_CHECKING:
    from app.auth.models import ProxyStaff, StaffUser


def init_app(app: Flask) -> None:
    """Wire Flask-Login, the global sign-in guard, cookie settings and the users CLI."""
    from app.auth import access, account_rows, cli

    if app.config.get("SESSION_COOKIE_SECURE") is None:
        # Plain http only where a developer runs it locally, and in tests.
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)

    if app.config["AUTH_MODE"] == "proxy":
        # The proxy vouches for every request; Flask-Login's session protection would treat
        # the first session cookie (a CSRF token) as a stolen session and sign the user out.
        app.config.setdefault("SESSION_PROTECTION", None)
    account_rows.init_app(app)
    app.before_request(access.guard)
    app.add_template_global(access.current_staff)
    app.add_template_global(access.home_url)
    app.cli.add_command(cli.users)


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """Session cookie -> staff account; None if disabled or its sessions were revoked."""
    from app.auth.account_rows import account_rows

    if current_app.config["AUTH_MODE"] != "local":
        return None
    row_id, _, version = user_id.partition(".")
    try:
        user = account_rows().load(int(row_id))
    except ValueError:
        return None
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


@login_manager.request_loader
def load_user_from_request(request: Request) -> ProxyStaff | None:
    """In proxy mode, every request names its user in headers set by the SSO proxy."""
    from app.auth.access import staff_from_proxy_headers

    if current_app.config["AUTH_MODE"] != "proxy":
        return None
    return staff_from_proxy_headers()


from app.auth import account_views, staff_views, views  # noqa: E402, F401 (registers the routes)
