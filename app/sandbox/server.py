"""Running the sandbox: a threaded werkzeug server on a loopback port, in a daemon thread."""

from __future__ import annotations

import logging
import threading
from types import EllipsisType
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app.clock import Clock, business_zone
from app.sandbox.data import CLUSTER_TIMEZONE, DEFAULT_PROGRAM, DEMO_PROGRAMS
from app.sandbox.state import LoggedRequest, SandboxState, Settings
from app.sandbox.webapp import create_sandbox_app

logger = logging.getLogger(__name__)

# How long stop() waits for the serving thread before giving up on it (it is a daemon).
STOP_JOIN_SECONDS = 5.0


class _LoggingHandler(WSGIRequestHandler):
    """Request lines go to this module's logger at DEBUG, without the query string.

    Werkzeug's default writes every request to stderr, query included, and lookup queries
    carry members' identifiers.
    """

    # Keep-alive, as the real upstream's HTTPS front does: the client's pooled connections
    # are then reused instead of each call paying a new connection and server thread.
    protocol_version = "HTTP/1.1"

    def send_response(self, code: int, message: str | None = None) -> None:
        """As the base class, without its own Server header: a CDN page sets "cloudflare"."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "").split("?", 1)[0]
        logger.debug("%s %s -> %s", getattr(self, "command", "-"), path, code)


class SandboxServer:
    """A running sandbox: its URL, the credentials it accepts, and runtime controls."""

    def __init__(self, state: SandboxState, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            create_sandbox_app(state),
            threaded=True,
            request_handler=_LoggingHandler,
        )
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{self._server.server_port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="capillary-sandbox", daemon=True
        )
        self._stopped = False
        self._thread.start()

    @property
    def port(self) -> int:
        """The port actually bound (useful when started on port 0)."""
        return self._server.server_port

    @property
    def username(self) -> str:
        """Till username accepted in Basic auth."""
        return self.state.username

    @property
    def password(self) -> str:
        """Plain till password; clients send its md5 hex."""
        return self.state.password

    @property
    def oauth_key(self) -> str:
        """OAuth client key accepted by the token endpoint."""
        return self.state.oauth_key

    @property
    def oauth_secret(self) -> str:
        """OAuth client secret accepted by the token endpoint."""
        return self.state.oauth_secret

    @property
    def settings(self) -> Settings:
        """The current runtime settings."""
        return self.state.settings

    def configure(
        self,
        *,
        latency: float | None = None,
        fault: str | None | EllipsisType = ...,
        fault_on: str | None | EllipsisType = ...,
        oauth_ttl: int | None = None,
        slow_seconds: float | None = None,
    ) -> None:
        """Change settings at runtime; omitted ones stay, fault=None clears the fault."""
        changes: dict[str, object] = {}
        if latency is not None:
            changes["latency"] = float(latency)
        if fault is not ...:
            changes["fault"] = fault
        if fault_on is not ...:
            changes["fault_on"] = fault_on
        if oauth_ttl is not None:
            changes["oauth_ttl"] = int(oauth_ttl)
        if slow_seconds is not None:
            changes["slow_seconds"] = float(slow_seconds)
        self.state.update(**changes)

    def reset(self) -> None:
        """Back to no latency, no fault, default ttl; the log is cleared."""
        self.state.update(**_defaults())
        self.clear_log()

    def request_log(self) -> list[LoggedRequest]:
        """What the sandbox received so far (a copy)."""
        return self.state.request_log()

    def clear_log(self) -> None:
        """Forget received requests."""
        self.state.clear_log()

    def stop(self) -> None:
        """Stop serving; wakes sleeping requests first so shutdown is prompt. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(STOP_JOIN_SECONDS)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r})"


def _defaults() -> dict[str, object]:
    default = Settings()
    return {
        "latency": default.latency,
        "fault": default.fault,
        "fault_on": default.fault_on,
        "oauth_ttl": default.oauth_ttl,
        "slow_seconds": default.slow_seconds,
    }


def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    latency: float = 0.0,
    fault: str | None = None,
    fault_on: str | None = None,
    oauth_ttl: int = 300,
    clock: Clock | None = None,
    zone: ZoneInfo | None = None,
) -> SandboxServer:
    """Start a sandbox in a background thread; port 0 picks a free port.

    clock and zone say what "today" is for the members' relative dates (default: the
    system clock, in the sandbox's cluster zone).
    """
    settings = Settings(latency=latency, fault=fault, fault_on=fault_on, oauth_ttl=oauth_ttl)
    state = SandboxState(settings, clock=clock, zone=zone)
    return SandboxServer(state, host=host, port=port)


def start_embedded(app: Flask) -> SandboxServer:
    """Start a sandbox for the dashboard and point its config at it (fills unset keys only)."""
    config = app.config
    if config.get("CAPILLARY_CLUSTER_TIMEZONE") is None:
        config["CAPILLARY_CLUSTER_TIMEZONE"] = CLUSTER_TIMEZONE
    zone = business_zone(config)
    server = start_sandbox(
        host=config["SANDBOX_HOST"],
        port=config["SANDBOX_PORT"],
        clock=app.extensions["clock"],
        zone=zone,
    )
    config["CAPILLARY_BASE_URL"] = server.url
    if config.get("CAPILLARY_AUTH") == "oauth" and not config.get("CAPILLARY_OAUTH_KEY"):
        # Someone asked for OAuth against the sandbox: give them the sandbox's client.
        config["CAPILLARY_OAUTH_KEY"] = server.oauth_key
        config["CAPILLARY_OAUTH_SECRET"] = server.oauth_secret
    elif not config.get("CAPILLARY_USERNAME"):
        config["CAPILLARY_AUTH"] = "basic"
        config["CAPILLARY_USERNAME"] = server.username
        config["CAPILLARY_PASSWORD"] = server.password
    if not config.get("CAPILLARY_PROGRAMS"):
        config["CAPILLARY_PROGRAMS"] = dict(DEMO_PROGRAMS)
    if config.get("CAPILLARY_DEFAULT_PROGRAM") is None:
        config["CAPILLARY_DEFAULT_PROGRAM"] = DEFAULT_PROGRAM
    return server
