"""Configuration defaults, normalisation and the start-up checks that fail fast."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

logger = logging.getLogger(__name__)


class Defaults:
    """Settings every deployment starts from; override in instance/config.py or FLASK_* env."""

    SECRET_KEY: str | None = None

    # Upstream. Unset base URL: the embedded sandbox is started and used.
    CAPILLARY_BASE_URL: str | None = None
    CAPILLARY_AUTH = "basic"  # "basic" or "oauth"
    CAPILLARY_USERNAME: str | None = None
    CAPILLARY_PASSWORD: str | None = None
    CAPILLARY_OAUTH_KEY: str | None = None
    CAPILLARY_OAUTH_SECRET: str | None = None
    CAPILLARY_SOURCE = "INSTORE"
    # Program id -> display name. Empty: the sandbox's demo programs when it is embedded.
    CAPILLARY_PROGRAMS: dict[int, str] = {}
    CAPILLARY_DEFAULT_PROGRAM: int | None = None  # None: omit programId, upstream default
    # IANA zone of the upstream cluster, for the legacy date-only fields. None: UTC.
    CAPILLARY_CLUSTER_TIMEZONE: str | None = None
    # Seconds. Connect is a little over a multiple of 3 (TCP retransmit window); read is
    # generous for a "light" API; the deadline bounds one call including retries.
    CAPILLARY_CONNECT_TIMEOUT = 3.05
    CAPILLARY_READ_TIMEOUT = 10.0
    CAPILLARY_CALL_DEADLINE = 15.0
    CAPILLARY_RETRIES = 2
    CAPILLARY_MAX_RESPONSE_BYTES = 4 * 1024 * 1024

    # Presentation.
    DISPLAY_TIMEZONE: str | None = None  # e.g. "Asia/Kolkata"; None: upstream zone only
    NUMBER_LOCALE = "en_US"

    # The lookup fan-out: one shared pool for every page's upstream calls; the page
    # deadline after which a page renders what arrived; how long outcomes are reused.
    LOOKUP_POOL_SIZE = 32
    LOOKUP_DEADLINE = 20.0
    LOOKUP_CACHE_SECONDS = 30.0
    LOOKUP_ERROR_CACHE_SECONDS = 5.0
    # Lookups one server process runs at once; more get a quick "busy" page, so request
    # threads stay free for /healthz even when the upstream hangs. Keep it below the
    # server's threads per worker (gunicorn.conf.py sets it to threads - 4).
    LOOKUP_MAX_CONCURRENT = 28
    # Shared cache for several app servers, e.g. "redis://127.0.0.1:6379/0"; None: in-process.
    CACHE_REDIS_URL: str | None = None
    CACHE_KEY_PREFIX = "pointsdesk:v1:"
    # How long /readyz reuses its answer about the upstream.
    READINESS_CACHE_SECONDS = 10.0

    # Embedded sandbox (used only when CAPILLARY_BASE_URL is unset). Outside development and
    # tests it also needs CAPILLARY_SANDBOX = True, so a production server with its base URL
    # forgotten refuses to start rather than show the demo members as real balances.
    CAPILLARY_SANDBOX = False
    SANDBOX_HOST = "127.0.0.1"
    SANDBOX_PORT = 0  # 0: any free port

    # Database. None: a SQLite file in the instance folder; postgresql://... in production.
    DATABASE_URL: str | None = None
    # hide_parameters: errors and logs must not carry member ids from statement parameters.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}

    # Staff access. "local": accounts in the database (flask users ...); "proxy": the user
    # name and groups come from headers set by an SSO reverse proxy at a trusted address.
    AUTH_MODE = "local"
    AUTH_PROXY_USER_HEADER = "X-Forwarded-User"
    AUTH_PROXY_GROUPS_HEADER = "X-Forwarded-Groups"
    AUTH_PROXY_TRUSTED: list[str] = []  # proxy addresses or networks, e.g. ["10.0.0.5"]
    AUTH_PROXY_ADMIN_GROUP: str | None = None  # members of this group are admins
    AUTH_PROXY_AGENT_GROUP: str | None = None  # None: anyone the proxy signed in is an agent
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a werkzeug.security method name)
    SESSION_IDLE_MINUTES = 30
    # Failed sign-ins per account, and per address (higher: a whole office may share one
    # address behind NAT), within the window; past the limit sign-in is refused until the
    # failures age out of the window.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None: True outside development and tests

    # Audit trail. Key for the HMAC of member identifiers; required outside development.
    AUDIT_HASH_KEY: str | None = None
    AUDIT_PAGE_SIZE = 50
    AUDIT_EXPORT_MAX_ROWS = 50_000

    # Rate limits (Flask-Limiter). "redis://host:6379/0" to share counts between servers.
    RATELIMIT_STORAGE_URI = "memory://"
    LOOKUP_RATE_LIMIT = "30 per minute"
    # Member pages (deep links, program switches, refreshes) are cheaper for staff to make
    # many of, but each is a lookup by id: limited too, against enumeration.
    MEMBER_PAGE_RATE_LIMIT = "120 per minute"

    # Request bodies. Every form here is a few hundred bytes; a larger body is refused with a
    # 413 page before it is parsed, so it cannot tie up memory or a request thread.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    # Behind a reverse proxy that sets X-Forwarded-For/-Proto, the number of such proxies
    # (usually 1), so sign-in throttling sees staff addresses rather than the proxy's.
    # 0: off; the header is then ignored, as anyone can send it.
    PROXY_FIX_X_FOR = 0


REQUIRED_OUTSIDE_DEVELOPMENT = ("SECRET_KEY", "AUDIT_HASH_KEY")


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot work; names the key at fault."""


def normalise(config: MutableMapping[str, Any]) -> None:
    """Coerce values that arrive as strings from the environment into their real types."""
    programs = config.get("CAPILLARY_PROGRAMS") or {}
    if isinstance(programs, str):
        try:
            programs = json.loads(programs)
        except ValueError as exc:
            raise ConfigError(
                "CAPILLARY_PROGRAMS must be a JSON object of program id to name"
            ) from exc
    if not isinstance(programs, Mapping):
        raise ConfigError("CAPILLARY_PROGRAMS must be a mapping of program id to name")
    try:
        config["CAPILLARY_PROGRAMS"] = {int(k): str(v) for k, v in programs.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError("CAPILLARY_PROGRAMS keys must be numeric program ids") from exc

    default = config.get("CAPILLARY_DEFAULT_PROGRAM")
    if default in ("", None):
        config["CAPILLARY_DEFAULT_PROGRAM"] = None
    else:
        try:
            config["CAPILLARY_DEFAULT_PROGRAM"] = int(default)
        except (TypeError, ValueError) as exc:
            raise ConfigError("CAPILLARY_DEFAULT_PROGRAM must be a program id") from exc

    auth = str(config.get("CAPILLARY_AUTH") or "basic").lower()
    if auth not in ("basic", "oauth"):
        raise ConfigError("CAPILLARY_AUTH must be 'basic' or 'oauth'")
    config["CAPILLARY_AUTH"] = auth

    for key in (
        "CAPILLARY_CONNECT_TIMEOUT",
        "CAPILLARY_READ_TIMEOUT",
        "CAPILLARY_CALL_DEADLINE",
        "LOOKUP_DEADLINE",
        "LOOKUP_CACHE_SECONDS",
        "LOOKUP_ERROR_CACHE_SECONDS",
        "READINESS_CACHE_SECONDS",
    ):
        config[key] = float(config[key])
    for key in (
        "CAPILLARY_RETRIES",
        "CAPILLARY_MAX_RESPONSE_BYTES",
        "SANDBOX_PORT",
        "LOOKUP_POOL_SIZE",
        "LOOKUP_MAX_CONCURRENT",
    ):
        config[key] = int(config[key])

    base_url = config.get("CAPILLARY_BASE_URL")
    config["CAPILLARY_BASE_URL"] = base_url.rstrip("/") + "/" if base_url else None

    for key in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "PROXY_FIX_X_FOR"):
        config[key] = int(config[key])
    if config["PROXY_FIX_X_FOR"] < 0:
        raise ConfigError("PROXY_FIX_X_FOR must be 0 (off) or the number of proxies in front")

    _check_presentation(config)
    normalise_staff_access(config)


def _check_presentation(config: Mapping[str, Any]) -> None:
    # Found at start-up, not as a 500 on the first member page.
    for key in ("DISPLAY_TIMEZONE", "CAPILLARY_CLUSTER_TIMEZONE"):
        if config.get(key):
            try:
                ZoneInfo(config[key])
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ConfigError(f"{key} is not a known IANA time zone name") from exc
    try:
        Locale.parse(config["NUMBER_LOCALE"])
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ConfigError("NUMBER_LOCALE is not a locale Babel knows, e.g. en_IN") from exc


def normalise_staff_access(config: MutableMapping[str, Any]) -> None:
    """Coerce the database, sign-in and audit settings."""
    url = config.get("DATABASE_URL") or None
    config["DATABASE_URL"] = sqlalchemy_url(url) if url else None

    mode = str(config.get("AUTH_MODE") or "local").lower()
    if mode not in ("local", "proxy"):
        raise ConfigError("AUTH_MODE must be 'local' or 'proxy'")
    config["AUTH_MODE"] = mode

    trusted = config.get("AUTH_PROXY_TRUSTED") or []
    if isinstance(trusted, str):
        # From the environment: a JSON list, or addresses separated by commas.
        try:
            trusted = json.loads(trusted)
        except ValueError:
            trusted = trusted.split(",")
    if isinstance(trusted, str) or not isinstance(trusted, list | tuple):
        raise ConfigError("AUTH_PROXY_TRUSTED must be a list of proxy addresses")
    try:
        config["AUTH_PROXY_TRUSTED"] = [
            ipaddress.ip_network(str(entry).strip(), strict=False)
            for entry in trusted
            if str(entry).strip()
        ]
    except ValueError as exc:
        raise ConfigError(f"AUTH_PROXY_TRUSTED has an entry that is not an address: {exc}") from exc
    if mode == "proxy" and not config["AUTH_PROXY_TRUSTED"]:
        raise ConfigError("AUTH_MODE is 'proxy' but AUTH_PROXY_TRUSTED names no proxy address")

    for key in (
        "SESSION_IDLE_MINUTES",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        "LOGIN_FAILURE_WINDOW_MINUTES",
        "AUDIT_PAGE_SIZE",
        "AUDIT_EXPORT_MAX_ROWS",
    ):
        config[key] = int(config[key])


def sqlalchemy_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg (v3) driver SQLAlchemy should use."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check(config: Mapping[str, Any], *, development: bool) -> None:
    """Refuse to start without a secret key or upstream credentials outside dev and tests."""
    if development or config.get("TESTING"):
        return
    for key in REQUIRED_OUTSIDE_DEVELOPMENT:
        if not config.get(key):
            raise ConfigError(f"{key} is not set; set FLASK_{key} or put it in instance/config.py")
    if not config.get("CAPILLARY_BASE_URL") and not config.get("CAPILLARY_SANDBOX"):
        raise ConfigError(
            "CAPILLARY_BASE_URL is not set: outside development Points Desk will not show the "
            "embedded sandbox's demo members; set it, or CAPILLARY_SANDBOX=true for a demo"
        )
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        logger.warning(
            "RATELIMIT_STORAGE_URI is memory://: each server process counts its own rate "
            "limits; point it at Redis when running several workers"
        )
    if config.get("CAPILLARY_BASE_URL"):
        if config["CAPILLARY_AUTH"] == "basic":
            needed = ("CAPILLARY_USERNAME", "CAPILLARY_PASSWORD")
        else:
            needed = ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET")
        for key in needed:
            if not config.get(key):
                raise ConfigError(
                    f"{key} is not set, but CAPILLARY_BASE_URL points at a real upstream "
                    f"with CAPILLARY_AUTH={config['CAPILLARY_AUTH']}"
                )


def apply_fallbacks(config: MutableMapping[str, Any], instance_path: str) -> None:
    """Fill in what was left unset: a SQLite database in the instance folder; and, reached
    only in development and tests (check() refuses their absence elsewhere), a throwaway
    secret key and the audit key falling back to it."""
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = "dev-only-not-secret"  # noqa: S105
    if not config.get("AUDIT_HASH_KEY"):
        config["AUDIT_HASH_KEY"] = config["SECRET_KEY"]
    if not config.get("DATABASE_URL"):
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'points-desk.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    if config["DATABASE_URL"].startswith("sqlite"):
        # A file cannot drop a connection the way a server can: pinging it before every
        # checkout would only add a query to every request.
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
