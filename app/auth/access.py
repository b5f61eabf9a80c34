"""Who may see what: the global sign-in guard, role checks and the proxy-header sign-in."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.auth.models import ProxyStaff, StaffUser

F = TypeVar("F", bound=Callable[..., Any])

# The only endpoints reachable without a signed-in staff member. Everything else, including
# views added later and URLs that match no view, goes through the guard below.
PUBLIC_ENDPOINTS = frozenset({"static", "main.healthz", "main.readyz", "auth.login"})

LAST_SEEN_KEY = "last_seen"
LAST_SEEN_RESOLUTION = 60  # seconds

Staff = StaffUser | ProxyStaff


def current_staff() -> Staff | None:
    """The signed-in staff member, or None."""
    if current_user and current_user.is_authenticated:
        return cast(Staff, current_user._get_current_object())
    return None


def admin_required(view: F) -> F:
    """Let admins through; anyone else signed in gets 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        require_admin()
        return view(*args, **kwargs)

    return cast(F, wrapped)


def require_admin() -> None:
    """Abort with 403 unless the signed-in staff member is an admin."""
    staff = current_staff()
    if staff is None:
        abort(401)
    if not staff.is_admin:
        abort(403)


def home_url() -> str:
    """Where staff land after signing in: the member lookup page."""
    try:
        return url_for("lookup.search")
    except BuildError:
        return "/"


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _here() -> str | None:
    """The current path to come back to after signing in (GET only)."""
    if request.method != "GET":
        return None
    return safe_next(request.full_path.rstrip("?"))


def guard() -> Response | None:
    """Run before every request: public endpoints pass, everything else needs staff."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_app.config["AUTH_MODE"] == "proxy":
        return _guard_proxy()
    return _guard_local()


def _guard_local() -> Response | None:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=_here()))
    now = int(time.time())
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    last_seen = session.get(LAST_SEEN_KEY)
    if not isinstance(last_seen, int) or now - last_seen > idle_limit:
        next_url = _here()
        logout_user()
        session.clear()
        flash(
            "You were signed out after "
            f"{current_app.config['SESSION_IDLE_MINUTES']} minutes without activity. "
            "Sign in again to carry on.",
            "info",
        )
        return redirect(url_for("auth.login", next=next_url))
    if now - last_seen >= LAST_SEEN_RESOLUTION:
        # Rewriting the cookie on every request costs a signature and a Set-Cookie each
        # time; a minute's resolution is plenty for an idle limit counted in minutes.
        session[LAST_SEEN_KEY] = now
    return None


def _guard_proxy() -> None:
    if not current_user.is_authenticated:
        # Either not from the proxy, or the proxy sent no user, or not in the agent group.
        abort(403)
    return None


def from_trusted_proxy() -> bool:
    """True when the request comes straight from a configured SSO proxy address."""
    # The peer itself, even when ProxyFix has replaced remote_addr with a forwarded address.
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    try:
        address = ipaddress.ip_address(peer or request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["AUTH_PROXY_TRUSTED"])


def staff_from_proxy_headers() -> ProxyStaff | None:
    """Build the staff member from the SSO proxy's headers, if they can be trusted."""
    config = current_app.config
    if not from_trusted_proxy():
        return None
    username = (request.headers.get(config["AUTH_PROXY_USER_HEADER"]) or "").strip()
    if not username or len(username) > 128:
        return None
    raw_groups = request.headers.get(config["AUTH_PROXY_GROUPS_HEADER"]) or ""
    groups = frozenset(g.strip() for g in raw_groups.replace(";", ",").split(",") if g.strip())
    agent_group = config["AUTH_PROXY_AGENT_GROUP"]
    admin_group = config["AUTH_PROXY_ADMIN_GROUP"]
    is_admin = bool(admin_group) and admin_group in groups
    if agent_group and agent_group not in groups and not is_admin:
        return None
    return ProxyStaff(username=username, groups=groups, role="admin" if is_admin else "agent")
