"""/metrics: the Prometheus text exposition (app/metrics.py), for the addresses in
METRICS_ALLOWED only; anyone else gets the plain 404 of any unknown page.

The address checked is request.remote_addr: the peer, or, behind PROXY_FIX_X_FOR proxies,
the client address the nearest proxy put in X-Forwarded-For (a client cannot choose that
entry; the proxy appends it). Behind ProxyFix the real peer is checked too (as proxy
sign-in does): a forwarded address counts only from a peer that is itself allowed, a
configured SSO proxy (AUTH_PROXY_TRUSTED) or loopback, so a client reaching the app
directly cannot send "X-Forwarded-For: 127.0.0.1" and pass for the scraper. A request that
carries a forwarding header while PROXY_FIX_X_FOR is 0 came through a proxy the app was
not told about: its peer address is the proxy's, so it would pass for loopback, and it is
refused instead.

No sign-in (a scraper has none), no rate limit, no session, no audit record: the figures
are counts and times with fixed labels, nothing about a member or a staff member.
"""

from __future__ import annotations

import ipaddress

from flask import Response, abort, current_app, request

from app import metrics
from app.extensions import limiter
from app.main.blueprint import bp

FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded")


def allowed(
    address: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    """Whether the address is in one of the networks (an unparsable address is not)."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in networks)


def _through_unknown_proxy() -> bool:
    if current_app.config["PROXY_FIX_X_FOR"] > 0:
        return False
    return any(name in request.headers for name in FORWARDING_HEADERS)


def _peer() -> str | None:
    """The address of the connection itself, before ProxyFix replaced remote_addr."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.remote_addr


def _peer_may_forward(peer: str | None) -> bool:
    """A peer whose X-Forwarded-For is believed: allowed itself, an SSO proxy, or loopback."""
    config = current_app.config
    networks = [*config["METRICS_ALLOWED"], *config.get("AUTH_PROXY_TRUSTED", [])]
    networks += [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    return allowed(peer, networks)


def from_operator() -> bool:
    """Whether this request comes from an address in METRICS_ALLOWED, by a route the app
    can vouch for (its real peer checked as well as any forwarded address)."""
    if _through_unknown_proxy():
        return False
    if not allowed(request.remote_addr, current_app.config["METRICS_ALLOWED"]):
        return False
    return _peer() == request.remote_addr or _peer_may_forward(_peer())


@bp.get("/metrics")
@limiter.exempt
def prometheus_metrics() -> Response:
    """The metrics of this server (every worker's, under gunicorn)."""
    if not from_operator():
        abort(404)
    body, content_type = metrics.exposition()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
