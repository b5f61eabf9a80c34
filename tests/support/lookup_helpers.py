"""Helpers for the lookup tests: read the sandbox's raw answers to compute expectations."""

from __future__ import annotations

import base64
import hashlib
import json
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import requests

from app.sandbox.server import SandboxServer


def raw(server: SandboxServer, path: str, **params: Any) -> dict[str, Any]:
    """GET a sandbox path directly (not through the app) and parse numbers as Decimal."""
    digest = hashlib.md5(server.password.encode()).hexdigest()
    token = base64.b64encode(f"{server.username}:{digest}".encode()).decode()
    with requests.Session() as session:
        response = session.get(
            server.url + path,
            params=params,
            headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
            timeout=5,
        )
        return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)


def balance(server: SandboxServer, member_id: int, **params: Any) -> dict[str, Any]:
    """The raw balance of a member."""
    return raw(server, f"v2/customers/{member_id}/points/balance", **params)


def schedule(server: SandboxServer, member_id: int, **params: Any) -> dict[str, Any]:
    """The raw promised-points schedule of a member."""
    return raw(server, f"v2/customers/{member_id}/promisedPointsSchedule", **params)


def upstream_kinds(server: SandboxServer) -> list[tuple[str, str, str]]:
    """(kind, path, sorted query) of each GET the sandbox received, for counting calls."""
    return [
        (entry.kind or "", entry.path, json.dumps(entry.query, sort_keys=True))
        for entry in server.request_log()
        if entry.method == "GET"
    ]


def decimal_text(text: str) -> Decimal:
    """'1,234.5' -> Decimal('1234.5')."""
    return Decimal(text.replace(",", "").strip())


# Documented warnings that leave the figures standing (capillary-api.md 7.1): 8069 "Merged
# customer found" and 8107. 91001 is not one: it fails the call.
MERGED_WARNING = {"status": False, "code": 8069, "message": "Merged customer found"}
LABEL_WARNING = {"status": False, "code": 8107, "message": "Default customer status label not set"}


@contextmanager
def warnings_of(server: SandboxServer, member_id: int, *warnings: dict[str, Any]):
    """Within the block, the sandbox member's balance and schedule carry these warnings."""
    members = server.state.members
    kept = members[member_id]
    members[member_id] = replace(kept, balance_warnings=warnings, schedule_warnings=warnings)
    try:
        yield
    finally:
        members[member_id] = kept
