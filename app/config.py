"""Configuration defaults, normalisation and the start-up checks that fail fast."""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from typing import Any


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

    # Embedded sandbox (used only when CAPILLARY_BASE_URL is unset).
    SANDBOX_HOST = "127.0.0.1"
    SANDBOX_PORT = 0  # 0: any free port


REQUIRED_OUTSIDE_DEVELOPMENT = ("SECRET_KEY",)


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
    ):
        config[key] = float(config[key])
    for key in ("CAPILLARY_RETRIES", "CAPILLARY_MAX_RESPONSE_BYTES", "SANDBOX_PORT"):
        config[key] = int(config[key])

    base_url = config.get("CAPILLARY_BASE_URL")
    config["CAPILLARY_BASE_URL"] = base_url.rstrip("/") + "/" if base_url else None


def check(config: Mapping[str, Any], *, development: bool) -> None:
    """Refuse to start without a secret key or upstream credentials outside dev and tests."""
    if development or config.get("TESTING"):
        return
    for key in REQUIRED_OUTSIDE_DEVELOPMENT:
        if not config.get(key):
            raise ConfigError(f"{key} is not set; set FLASK_{key} or put it in instance/config.py")
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
