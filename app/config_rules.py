"""The finished configuration, normalised and checked at start-up: mistakes are refused with
the key at fault named; then what was left unset is filled in (a SQLite database, dev keys).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from app.capillary.auth import is_md5_hex
from app.capillary.hosts import cluster_zone_for
from app.config import Defaults

logger = logging.getLogger(__name__)


REQUIRED_OUTSIDE_DEVELOPMENT = ("SECRET_KEY", "AUDIT_HASH_KEY")
# Set by normalise(): whether CAPILLARY_CLUSTER_TIMEZONE was taken from the host's cluster.
CLUSTER_ZONE_FROM_HOST = "CAPILLARY_CLUSTER_TIMEZONE_FROM_HOST"


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

    _normalise_lookup_rules(config)

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
        "READINESS_WAIT_SECONDS",
        "READINESS_PROBE_TIMEOUT",
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

    try:
        stale_max = float(config["LOOKUP_STALE_MAX_SECONDS"])
    except (TypeError, ValueError) as exc:
        raise ConfigError("LOOKUP_STALE_MAX_SECONDS must be a number of seconds") from exc
    if not (math.isfinite(stale_max) and stale_max >= 0):
        raise ConfigError("LOOKUP_STALE_MAX_SECONDS must be 0 (off) or a number of seconds")
    config["LOOKUP_STALE_MAX_SECONDS"] = stale_max

    base_url = config.get("CAPILLARY_BASE_URL")
    config["CAPILLARY_BASE_URL"] = base_url.rstrip("/") + "/" if base_url else None
    _default_cluster_zone(config)

    for key in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "PROXY_FIX_X_FOR"):
        config[key] = int(config[key])
    if config["PROXY_FIX_X_FOR"] < 0:
        raise ConfigError("PROXY_FIX_X_FOR must be 0 (off) or the number of proxies in front")

    code = str(config.get("LOOKUP_DEFAULT_COUNTRY_CODE") or "").removeprefix("+")
    if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 3):
        raise ConfigError("LOOKUP_DEFAULT_COUNTRY_CODE must be 1 to 3 digits, e.g. 91")
    config["LOOKUP_DEFAULT_COUNTRY_CODE"] = code
    _check_default_program(config)

    config["METRICS_ALLOWED"] = metrics_networks(config.get("METRICS_ALLOWED"))
    _check_presentation(config)
    # The member-story switches first: the budget counts the calls a page makes with them.
    normalise_member_story(config)
    _normalise_budget(config)
    normalise_staff_access(config)


def _normalise_lookup_rules(config: MutableMapping[str, Any]) -> None:
    """What the docs require of a lookup (capillary-api.md 7.2): accountId for any source but
    INSTORE, the dual-eligibility switch, and a hashed password that is an md5."""
    source = str(config.get("CAPILLARY_SOURCE") or "INSTORE").strip().upper()
    config["CAPILLARY_SOURCE"] = source
    account = config.get("CAPILLARY_ACCOUNT_ID")
    account = str(account).strip() if account not in (None, "") else ""
    config["CAPILLARY_ACCOUNT_ID"] = account or None
    if source != "INSTORE" and not account:
        raise ConfigError(
            f"CAPILLARY_ACCOUNT_ID is not set, but CAPILLARY_SOURCE is {source}: the loyalty "
            "system requires accountId for every source except INSTORE (it answers 8045)"
        )
    config["CAPILLARY_DUAL_ELIGIBILITY"] = _flag(
        config.get("CAPILLARY_DUAL_ELIGIBILITY"), "CAPILLARY_DUAL_ELIGIBILITY"
    )
    digest = config.get("CAPILLARY_PASSWORD_MD5")
    if digest in (None, ""):
        config["CAPILLARY_PASSWORD_MD5"] = None
    else:
        digest = str(digest).strip().lower()
        if not is_md5_hex(digest):
            raise ConfigError(
                "CAPILLARY_PASSWORD_MD5 must be the password's md5: 32 hexadecimal characters"
            )
        if config.get("CAPILLARY_PASSWORD"):
            raise ConfigError(
                "CAPILLARY_PASSWORD and CAPILLARY_PASSWORD_MD5 are both set: set only one"
            )
        config["CAPILLARY_PASSWORD_MD5"] = digest


def _default_cluster_zone(config: MutableMapping[str, Any]) -> None:
    """Unset CAPILLARY_CLUSTER_TIMEZONE: the zone the docs give the host's cluster, if any
    ([TZ-ISO]: India and SG at +05:30, EU at UTC); the start-up log says which was taken."""
    if config.get("CAPILLARY_CLUSTER_TIMEZONE"):
        return
    zone, _ = cluster_zone_for(config.get("CAPILLARY_BASE_URL"))
    config["CAPILLARY_CLUSTER_TIMEZONE"] = zone
    config[CLUSTER_ZONE_FROM_HOST] = zone is not None


def _flag(raw: object, key: str) -> bool:
    """A true/false setting, from Python or from the environment's text."""
    if raw in (None, ""):
        return False
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false")


# The APIs the desk calls, and the one counter of all of them together (the default).
BUDGET_APIS = ("balance", "schedule", "customer", "expiry", "ledger")
BUDGET_ALL = "all"


def _check_default_program(config: MutableMapping[str, Any]) -> None:
    """LOOKUP_DEFAULT_PROGRAM: None, "all" or one of CAPILLARY_PROGRAMS, as the form's value."""
    value = str(config.get("LOOKUP_DEFAULT_PROGRAM") or "").strip().lower()
    if value in ("", "default"):
        config["LOOKUP_DEFAULT_PROGRAM"] = None
        return
    if value != "all" and not (value.isdigit() and int(value) in config["CAPILLARY_PROGRAMS"]):
        raise ConfigError(
            "LOOKUP_DEFAULT_PROGRAM must be 'all' or a program id listed in CAPILLARY_PROGRAMS"
        )
    config["LOOKUP_DEFAULT_PROGRAM"] = value if value == "all" else str(int(value))


def _normalise_budget(config: MutableMapping[str, Any]) -> None:
    """CAPILLARY_CALLS_PER_MINUTE: unset, or a whole number of at least 1, counted in a
    storage the budget can share (memory:// in one process, or Redis); the per-API switch
    or mapping, each staff member's cap and the reserve: whole numbers, or unset."""
    raw = config.get("CAPILLARY_CALLS_PER_MINUTE")
    config["CAPILLARY_BUDGET_PER_API"] = _per_api(config.get("CAPILLARY_BUDGET_PER_API"))
    for key in ("CAPILLARY_CALLS_PER_STAFF", "CAPILLARY_BUDGET_RESERVE"):
        config[key] = _count_or_none(config.get(key), key, minimum=0)
    if raw in (None, ""):
        config["CAPILLARY_CALLS_PER_MINUTE"] = None
        return
    config["CAPILLARY_CALLS_PER_MINUTE"] = _count_or_none(
        raw, "CAPILLARY_CALLS_PER_MINUTE", minimum=1
    )
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not uri.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
        raise ConfigError(
            "CAPILLARY_CALLS_PER_MINUTE is counted where RATELIMIT_STORAGE_URI points, which "
            "must then be memory:// or Redis (redis://, rediss://, redis+unix://)"
        )


def _count_or_none(raw: object, key: str, *, minimum: int) -> int | None:
    """A whole number of calls of at least minimum, or None when unset."""
    if raw in (None, ""):
        return None
    try:
        if isinstance(raw, bool):
            raise ValueError("a bool is not a count")
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key} must be a whole number of calls (e.g. 100), or unset") from exc
    if value < minimum:
        raise ConfigError(f"{key} must be at least {minimum} (unset: the default)")
    return value


def _per_api(raw: object) -> bool | dict[str, int]:
    """CAPILLARY_BUDGET_PER_API: false (one ceiling for every API together), true (the
    ceiling for each API), or a JSON object of API -> ceiling."""
    if raw in (None, "", False):
        return False
    if raw is True:
        return True
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in ("0", "false", "no", "off"):
            return False
        if word in ("1", "true", "yes", "on"):
            return True
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(
                "CAPILLARY_BUDGET_PER_API must be true, false or a JSON object such as "
                '{"balance": 100, "schedule": 100}'
            ) from exc
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError("CAPILLARY_BUDGET_PER_API must be true, false or API -> calls a minute")
    unknown = set(raw) - set(BUDGET_APIS)
    if unknown:
        raise ConfigError(
            f"CAPILLARY_BUDGET_PER_API names an API Points Desk does not call: "
            f"{', '.join(sorted(map(str, unknown)))} (known: {', '.join(BUDGET_APIS)})"
        )
    return {
        str(api): int(_count_or_none(value, f"CAPILLARY_BUDGET_PER_API[{api}]", minimum=1) or 1)
        for api, value in raw.items()
    }


# What makes up one page's calls, per counter, for the start-up refusal's words.
LOOKUP_CALL_WORDS = {
    BUDGET_ALL: "a balance per configured program, the scope's own, the schedule, and customer "
    "details and the expiry schedule unless switched off",
    "balance": "a balance per configured program and the scope's own",
}


def lookup_calls(config: Mapping[str, Any]) -> dict[str, int]:
    """The most calls one page makes, per budget counter: one balance per configured
    program, the scope's own balance (all programs), the schedule, customer details and the
    expiry schedule when the page shows them; History's one ledger call on its own."""
    calls = {
        "balance": len(config.get("CAPILLARY_PROGRAMS") or {}) + 1,
        "schedule": 1,
        "customer": 1 if config.get("LOOKUP_MEMBER_DETAILS", True) else 0,
        "expiry": 1
        if config.get("LOOKUP_EXPIRY", True) and not config.get("CAPILLARY_DUAL_ELIGIBILITY")
        else 0,
        "ledger": 1,
    }
    if config.get("CAPILLARY_BUDGET_PER_API"):
        return calls
    return {BUDGET_ALL: max(sum(calls.values()) - calls["ledger"], calls["ledger"])}


def budget_limits(config: Mapping[str, Any]) -> dict[str, tuple[int, int, int]] | None:
    """Per budget counter: (the desk's ceiling, each staff member's cap, the reserve), or
    None with no ceiling. Unset caps are a quarter of the ceiling (never below one
    lookup's calls), unset reserves a fifth of it (never cutting into one lookup's calls)."""
    ceiling = config.get("CAPILLARY_CALLS_PER_MINUTE")
    if ceiling is None:
        return None
    per_api = config.get("CAPILLARY_BUDGET_PER_API")
    if not per_api:
        ceilings = {BUDGET_ALL: ceiling}
    elif per_api is True:
        ceilings = dict.fromkeys(BUDGET_APIS, ceiling)
    else:
        ceilings = {api: per_api.get(api, ceiling) for api in BUDGET_APIS}
    needed = lookup_calls(config)
    staff, reserve = config.get("CAPILLARY_CALLS_PER_STAFF"), config.get("CAPILLARY_BUDGET_RESERVE")
    limits = {}
    for counter, top in ceilings.items():
        cap = staff if staff is not None else min(top, max(needed[counter], top // 4))
        kept = reserve if reserve is not None else max(0, min(top // 5, top - needed[counter]))
        limits[counter] = (top, cap, kept)
    return limits


def check_budget(config: Mapping[str, Any]) -> None:
    """Limits that would refuse every lookup (or some staff every lookup) stop the start."""
    limits = budget_limits(config)
    if limits is None:
        return
    needed = lookup_calls(config)
    for counter, (ceiling, cap, reserve) in limits.items():
        calls = "calls" if counter == BUDGET_ALL else f"{counter} calls"
        if ceiling < needed[counter]:
            key = "CAPILLARY_CALLS_PER_MINUTE"
            if isinstance(config.get("CAPILLARY_BUDGET_PER_API"), Mapping):
                key = "CAPILLARY_BUDGET_PER_API"
            raise ConfigError(
                f"{key} gives {ceiling} {calls} a minute, but one lookup can need "
                f"{needed[counter]} {calls} ({LOOKUP_CALL_WORDS.get(counter, 'one call')})"
            )
        if not needed[counter] <= cap <= ceiling:
            raise ConfigError(
                f"CAPILLARY_CALLS_PER_STAFF is {cap}: it must lie between one lookup's "
                f"{needed[counter]} {calls} and the ceiling of {ceiling}"
            )
        if reserve > ceiling - needed[counter]:
            raise ConfigError(
                f"CAPILLARY_BUDGET_RESERVE is {reserve}: with a ceiling of {ceiling} it must "
                f"leave room for one lookup's {needed[counter]} {calls}"
            )


def metrics_networks(raw: object) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """METRICS_ALLOWED as networks: a comma-separated string (or a list) of addresses and
    CIDR networks. A network with host bits set (10.0.0.5/8) is refused, not widened."""
    if raw is None:
        raw = ""
    entries = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(entries, list | tuple):
        raise ConfigError("METRICS_ALLOWED must be addresses or networks separated by commas")
    try:
        return [ipaddress.ip_network(str(e).strip()) for e in entries if str(e).strip()]
    except ValueError as exc:
        raise ConfigError(f"METRICS_ALLOWED has an entry that is not an address: {exc}") from exc


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
        "SESSION_MAX_HOURS",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        "LOGIN_FAILURE_WINDOW_MINUTES",
        "LOGIN_LOCKED_ADDRESS_DELAY_SECONDS",
        "AUDIT_PAGE_SIZE",
        "AUDIT_EXPORT_MAX_ROWS",
    ):
        config[key] = int(config[key])
    for key in ("AUDIT_RETENTION_DAYS", "STAFF_SETUP_LINK_HOURS"):
        value = int(config.get(key, getattr(Defaults, key)))
        if value < 1:
            raise ConfigError(f"{key} must be a whole number of at least 1")
        config[key] = value
    config["LOOKUP_REASONS"] = _reasons(config.get("LOOKUP_REASONS"))
    recheck = float(config.get("AUTH_RECHECK_SECONDS", Defaults.AUTH_RECHECK_SECONDS))
    if not 0 <= recheck <= 60:
        raise ConfigError("AUTH_RECHECK_SECONDS must be between 0 and 60")
    config["AUTH_RECHECK_SECONDS"] = recheck


def normalise_member_story(config: MutableMapping[str, Any]) -> None:
    """The member page's name, tier, expiry and History settings."""
    # CAPILLARY_DUAL_ELIGIBILITY is read with the lookup rules (_normalise_lookup_rules).
    for key in ("LOOKUP_MEMBER_DETAILS", "LOOKUP_EXPIRY"):
        raw = config.get(key, getattr(Defaults, key))
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0"):
            raw = raw.strip().lower() in ("true", "1")
        if not isinstance(raw, bool):
            raise ConfigError(f"{key} must be true or false")
        config[key] = raw
    roles = config.get("MEMBER_NAME_ROLES", Defaults.MEMBER_NAME_ROLES) or []
    if isinstance(roles, str):
        try:
            roles = json.loads(roles)
        except ValueError:
            roles = roles.split(",")
    if isinstance(roles, str) or not isinstance(roles, list | tuple):
        raise ConfigError('MEMBER_NAME_ROLES must be a list of roles, e.g. ["manager", "admin"]')
    names = [str(role).strip() for role in roles if str(role).strip()]
    unknown = [role for role in names if role not in ("agent", "manager", "admin")]
    if unknown:
        raise ConfigError("MEMBER_NAME_ROLES names roles that do not exist: agent, manager, admin")
    config["MEMBER_NAME_ROLES"] = names
    for key, low, high in (("EXPIRY_SOON_DAYS", 0, 36500), ("HISTORY_DEFAULT_DAYS", 1, 60)):
        try:
            value = int(config.get(key, getattr(Defaults, key)))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number of days") from exc
        if not low <= value <= high:
            raise ConfigError(f"{key} must be {low} to {high} days")
        config[key] = value


def _reasons(raw: object) -> list[str]:
    """LOOKUP_REASONS as a list of distinct, non-empty labels (from a JSON list in the env)."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError('LOOKUP_REASONS must be a JSON list, e.g. ["Member called"]') from exc
    if not isinstance(raw, list | tuple) or not all(isinstance(r, str) for r in raw):
        raise ConfigError("LOOKUP_REASONS must be a list of labels")
    reasons = list(dict.fromkeys(r.strip() for r in raw if r.strip()))
    if any(len(r) > 64 for r in reasons):
        raise ConfigError("LOOKUP_REASONS labels are at most 64 characters")
    return reasons


def sqlalchemy_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg (v3) driver SQLAlchemy should use."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check(config: Mapping[str, Any], *, development: bool) -> None:
    """Refuse to start without a secret key or upstream credentials outside dev and tests."""
    check_budget(config)
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
            needed = ("CAPILLARY_USERNAME",)
            if not config.get("CAPILLARY_PASSWORD_MD5"):
                needed += ("CAPILLARY_PASSWORD",)
        else:
            needed = ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET")
        for key in needed:
            if not config.get(key):
                alternative = " (or CAPILLARY_PASSWORD_MD5)" if key == "CAPILLARY_PASSWORD" else ""
                raise ConfigError(
                    f"{key}{alternative} is not set, but CAPILLARY_BASE_URL points at a real "
                    f"upstream with CAPILLARY_AUTH={config['CAPILLARY_AUTH']}"
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
    pool_size = config.get("DATABASE_POOL_SIZE")
    if pool_size not in (None, "") and config["DATABASE_URL"] not in (
        "sqlite://",
        "sqlite:///:memory:",
    ):
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_size", int(pool_size))
        # A little room for a thread that outlives its request (a hook, the CLI in-process).
        options.setdefault("max_overflow", 4)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if config["DATABASE_URL"].startswith("postgresql"):
        # A database host that is down or unroutable costs seconds, not the TCP default's
        # minutes, before the "cannot reach its database" page.
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", int(config["DATABASE_CONNECT_TIMEOUT"]))
        options["connect_args"] = connect_args
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if config["DATABASE_URL"].startswith("sqlite"):
        # A file cannot drop a connection the way a server can: pinging it before every
        # checkout would only add a query to every request.
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
