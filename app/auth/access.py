"""Who may see what: the global sign-in guard, role checks and the proxy-header sign-in."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from babel import Locale
from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app import clock
from app.auth import proxy_headers, resume
from app.auth.account_rows import account_rows
from app.auth.models import ROLES, ProxyStaff, StaffUser
from app.extensions import db

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# The only endpoints reachable without a signed-in staff member. Everything else, including
# views added later and URLs that match no view, goes through the guard below.
# /metrics answers only METRICS_ALLOWED addresses (app/main/metrics_view.py).
PUBLIC_ENDPOINTS = frozenset(
    {"static", "main.healthz", "main.readyz", "main.prometheus_metrics", "auth.login", "auth.setup"}
)

LAST_SEEN_KEY = "last_seen"
# When the session signed in: it ends SESSION_MAX_HOURS later, however busy it is.
SIGNED_IN_KEY = "signed_in_at"
LAST_SEEN_RESOLUTION = 60  # seconds

Staff = StaffUser | ProxyStaff


def current_staff() -> Staff | None:
    """The signed-in staff member, or None."""
    if current_user and current_user.is_authenticated:
        return cast(Staff, current_user._get_current_object())
    return None


# Where a view states the least role that may use it (see requires()).
ROLE_ATTRIBUTE = "required_role"


def requires(role: str) -> Callable[[F], F]:
    """State the least role that may use this view; the guard enforces it on every request."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")

    def mark(view: F) -> F:
        setattr(view, ROLE_ATTRIBUTE, role)
        return view

    return mark


def blueprint_role(blueprint: Blueprint, role: str) -> None:
    """State the least role for every view of blueprint that does not state its own."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    setattr(blueprint, ROLE_ATTRIBUTE, role)


def required_role(app: Flask, endpoint: str) -> str | None:
    """The role the endpoint's view states (or its blueprint's), None when it states none."""
    view = app.view_functions.get(endpoint)
    role = getattr(view, ROLE_ATTRIBUTE, None)
    if role is None and "." in endpoint:
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        role = getattr(blueprint, ROLE_ATTRIBUTE, None)
    return role


def _check_role() -> None:
    """403 unless the signed-in staff member has the role the requested view states."""
    if request.endpoint is None:
        return  # no such page: the 404 follows
    role = required_role(current_app, request.endpoint)
    if role is None:
        # Fail closed: a view that forgot to say who may use it is for nobody.
        logger.error("View %s states no role; refusing it", request.endpoint)
        abort(403)
    staff = current_staff()
    if staff is None or not staff.has_role(role):
        abort(403)
    if role != "agent" and isinstance(staff, StaffUser):
        _recheck_from_database(staff, role)


def _recheck_from_database(staff: StaffUser, role: str) -> None:
    """Read the account's row again before a manager's or admin's page: a lock, a
    deactivation or a demotion made on another worker counts at once, not after the
    per-process copy (app/auth/account_rows.py) runs out."""
    session_id = session.get("_user_id")
    db.session.refresh(staff)
    if not staff.is_active or staff.get_id() != session_id:
        account_rows().forget(staff.id)
        logger.info("Staff request refused: the account changed since its last check")
        logout_user()
        session.clear()
        abort(403)
    if not staff.has_role(role):
        account_rows().forget(staff.id)
        abort(403)


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
        refused = _guard_proxy()
    else:
        refused = _guard_local()
    if refused is None:
        _check_role()
    return refused


def _guard_local() -> Response | None:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=_here()))
    now = int(clock.now().timestamp())
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    signed_in = session.get(SIGNED_IN_KEY)
    if not isinstance(signed_in, int) or now - signed_in > _max_seconds():
        logout_user()
        session.clear()
        flash(
            f"Sessions last at most {current_app.config['SESSION_MAX_HOURS']} hours. "
            "Sign in again to carry on.",
            "info",
        )
        return redirect(url_for("auth.login", next=_here()))
    last_seen = session.get(LAST_SEEN_KEY)
    if not isinstance(last_seen, int) or now - last_seen > idle_limit:
        next_url = _here()
        username = current_user.username
        logout_user()
        session.clear()
        # A POST (Enter on the lookup, Refresh) comes back to its page, what was typed kept.
        next_url = next_url or resume.stash(username)
        minutes = current_app.config["SESSION_IDLE_MINUTES"]
        flash(
            f"You were signed out after {_minutes(minutes)} without "
            "activity. Sign in again to carry on.",
            "info",
        )
        return redirect(url_for("auth.login", next=next_url))
    if now - last_seen >= LAST_SEEN_RESOLUTION:
        # Rewriting the cookie on every request costs a signature and a Set-Cookie each
        # time; a minute's resolution is plenty for an idle limit counted in minutes.
        session[LAST_SEEN_KEY] = now
    return None


def _minutes(number: int) -> str:
    """'1 minute', '30 minutes': the plural by the locale's rule (Babel), as app.formatting."""
    one = Locale.parse(current_app.config["NUMBER_LOCALE"]).plural_form(number) == "one"
    return f"{number} {'minute' if one else 'minutes'}"


def _max_seconds() -> float:
    return current_app.config["SESSION_MAX_HOURS"] * 3600


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


def _wsgi_text(value: str) -> str:
    """A header value as the proxy sent it: WSGI servers decode header bytes as latin-1
    (PEP 3333), so UTF-8 names arrive garbled ("mÃ¼ller"); bytes that are not UTF-8 stay
    as decoded."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def staff_from_proxy_headers() -> ProxyStaff | None:
    """Build the staff member from the SSO proxy's headers, if they can be trusted."""
    config = current_app.config
    if not from_trusted_proxy():
        return None
    if proxy_headers.is_marked(request.environ):
        # Two user or groups lines: one of them did not come from the proxy.
        logger.warning(
            "Proxy sign-in refused: repeated identity header (%s)",
            request.environ[proxy_headers.REPEATED_ENVIRON_KEY],
        )
        return None
    username = _wsgi_text(request.headers.get(config["AUTH_PROXY_USER_HEADER"]) or "").strip()
    if not username or len(username) > 128:
        return None
    raw_groups = _wsgi_text(request.headers.get(config["AUTH_PROXY_GROUPS_HEADER"]) or "")
    groups = frozenset(g.strip() for g in raw_groups.replace(";", ",").split(",") if g.strip())
    role = proxy_role(groups, config)
    if role is None:
        return None
    return ProxyStaff(username=username, groups=groups, role=role)


def proxy_role(groups: frozenset[str], config: dict[str, Any]) -> str | None:
    """The highest role the proxy's groups give; None when they give none."""
    for role, key in (("admin", "AUTH_PROXY_ADMIN_GROUP"), ("manager", "AUTH_PROXY_MANAGER_GROUP")):
        if config.get(key) and config[key] in groups:
            return role
    agent_group = config["AUTH_PROXY_AGENT_GROUP"]
    if agent_group and agent_group not in groups:
        return None
    return "agent"
