"""Seed data consistency (balance vs schedule, over HTTP), determinism and the encoder."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.sandbox.auth import basic_header
from app.sandbox.data import (
    DEMO_MEMBERS,
    IDENTIFIER_KINDS,
    LARGE_SCHEDULE_DAYS,
    MEMBER_LARGE_SCHEDULE,
    MEMBER_SCHEDULE_FAILS,
    ORG_PROGRAMS,
)
from app.sandbox.encoding import dumps
from app.sandbox.seed import build_members
from app.sandbox.server import SandboxServer

ZERO = Decimal("0")


def fetch(session: requests.Session, server: SandboxServer, path: str, **params: object) -> Any:
    """GET a JSON body with Decimal numbers, expecting 200."""
    response = session.get(server.url + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def check_consistent(balance: dict[str, Any], entries: list[dict], triggers: list[dict]) -> None:
    """The documented relations between a balance and its schedule."""
    breakup = balance["promisedPointsBreakup"]
    assert breakup["delayedAccrualPoints"] == sum((e["points"] for e in entries), ZERO)
    assert breakup["externalTriggerBasedPoints"] == sum((t["points"] for t in triggers), ZERO)
    assert balance["promisedPoints"] == (
        breakup["delayedAccrualPoints"] + breakup["externalTriggerBasedPoints"]
    )
    assert balance["totalPoints"] == balance["mainPoints"] + balance["promisedPoints"]


SCOPES = [{"programId": p} for p in ORG_PROGRAMS] + [{"fetchDataForAllPrograms": "true"}]


@pytest.mark.parametrize(
    "member", [m for m in DEMO_MEMBERS if m.id != MEMBER_SCHEDULE_FAILS], ids=lambda m: str(m.id)
)
def test_every_member_balance_matches_its_schedule(sandbox: SandboxServer, member) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = basic_header(sandbox.username, sandbox.password)
        for scope in SCOPES:
            balance = fetch(session, sandbox, f"v2/customers/{member.id}/points/balance", **scope)
            schedule = fetch(
                session, sandbox, f"v2/customers/{member.id}/promisedPointsSchedule", **scope
            )
            check_consistent(
                balance, schedule["promisedPointsScheduleList"], schedule["triggerBasedPointsList"]
            )


def test_schedule_failing_member_balance_matches_its_seed_schedule(sandbox: SandboxServer) -> None:
    # Its schedule cannot be fetched, so compare the served balance with the seed entries.
    seed = build_members(sandbox.state.today)[MEMBER_SCHEDULE_FAILS]
    with requests.Session() as session:
        session.headers["Authorization"] = basic_header(sandbox.username, sandbox.password)
        for program_id in ORG_PROGRAMS:
            balance = fetch(
                session,
                sandbox,
                f"v2/customers/{MEMBER_SCHEDULE_FAILS}/points/balance",
                programId=program_id,
            )
            entries = [{"points": e.points} for e in seed.schedule if e.program_id == program_id]
            triggers = [{"points": t.points} for t in seed.triggers if t.program_id == program_id]
            check_consistent(balance, entries, triggers)
    assert seed.schedule  # it does have promised points the page cannot itemise


def test_seed_is_deterministic_for_a_day() -> None:
    day = date(2026, 3, 1)
    assert build_members(day) == build_members(day)
    later = build_members(day + timedelta(days=1))[MEMBER_LARGE_SCHEDULE].schedule
    first = build_members(day)[MEMBER_LARGE_SCHEDULE].schedule
    # Same draws, dates shifted with the start day.
    assert [e.points for e in later] == [e.points for e in first]
    assert [e.redeemable_from - timedelta(days=1) for e in later] == [
        e.redeemable_from for e in first
    ]


def test_large_schedule_is_spread_over_eighteen_months_ahead() -> None:
    day = date(2026, 3, 1)
    entries = build_members(day)[MEMBER_LARGE_SCHEDULE].schedule
    assert len(entries) == 480
    assert all(
        day < e.redeemable_from <= day + timedelta(days=LARGE_SCHEDULE_DAYS) for e in entries
    )
    assert max(e.redeemable_from for e in entries) - min(e.redeemable_from for e in entries) > (
        timedelta(days=450)
    )


def test_identifiers_are_unique_across_members() -> None:
    for kind in IDENTIFIER_KINDS:
        values = [m.identifiers[kind] for m in DEMO_MEMBERS]
        assert len(values) == len(set(values)), kind
    assert len({m.id for m in DEMO_MEMBERS}) == len(DEMO_MEMBERS)


def test_seed_points_are_decimal() -> None:
    for member in build_members(date(2026, 3, 1)).values():
        assert all(isinstance(v, Decimal) for v in member.main_points.values())
        assert all(isinstance(e.points, Decimal) for e in member.schedule)
        assert all(isinstance(t.points, Decimal) for t in member.triggers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("8500"), "8500.000"),
        (Decimal("0"), "0.000"),
        (Decimal("12.5"), "12.500"),
        (Decimal("1E+3"), "1000.000"),
        ({"a": [Decimal("1.25"), None, True, "x", 3]}, '{"a": [1.250, null, true, "x", 3]}'),
    ],
)
def test_encoder_writes_three_decimals(value: object, expected: str) -> None:
    assert dumps(value) == expected
    json.loads(dumps(value))  # still valid JSON
