"""A fake Capillary over real HTTP (pytest-httpserver) for the page-level fault suites.

Its fixtures (fake_server, fake, agent) are registered for every test by tests/conftest.py;
the helpers (json_response, respond, balance_body, schedule_body, the limit sets) are
imported by name.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import FROZEN_AT

MEMBER = 700000001
MOBILE = "919800000001"
USERNAME = "till.hardening"
PASSWORD = "Up-Str3am-Pa55"
PROGRAMS = {2199: "Gold Club", 1933: "Partner Rewards"}
# Limits far above what a loopback answer needs on a busy machine: a fault that answers at
# once (a 502, a reset, bad JSON) is never turned into a timeout by a slow moment.
FAST = {
    "CAPILLARY_CONNECT_TIMEOUT": 5,
    "CAPILLARY_READ_TIMEOUT": 10,
    "CAPILLARY_CALL_DEADLINE": 20,
    "CAPILLARY_RETRIES": 2,
    "LOOKUP_DEADLINE": 30,
    "CAPILLARY_PROGRAMS": PROGRAMS,
    "CAPILLARY_DEFAULT_PROGRAM": 2199,
    "CAPILLARY_CLUSTER_TIMEZONE": "UTC",
    "LOOKUP_RATE_LIMIT": "1000 per minute",
    "MEMBER_PAGE_RATE_LIMIT": "1000 per minute",
    # The fake serves the balance and the schedule only: the member-story calls (name and
    # tier, expiry) have suites of their own over the sandbox and pytest-httpserver.
    "LOOKUP_MEMBER_DETAILS": False,
    "LOOKUP_EXPIRY": False,
}
# Test-sized limits for the faults where nothing ever answers (the stand-in holds until the
# test ends): a call gets 1.5 s including retries, a page 2.5 s.
SHORT = {
    "CAPILLARY_CONNECT_TIMEOUT": 0.5,
    "CAPILLARY_READ_TIMEOUT": 0.5,
    "CAPILLARY_CALL_DEADLINE": 1.5,
    "LOOKUP_DEADLINE": 2.5,
}

# Good answers, per program, with distinct figures so the page can be checked against them.
FIGURES = {
    2199: {"main": "1200.5", "delayed": "100", "trigger": "50"},
    1933: {"main": "300", "delayed": "0", "trigger": "25"},
}


def balance_body(program: int) -> dict:
    f = FIGURES[program]
    promised = Decimal(f["delayed"]) + Decimal(f["trigger"])
    return {
        "entityId": MEMBER,
        "entityType": "CUSTOMER",
        "programId": program,
        "totalPoints": str(Decimal(f["main"]) + promised),
        "mainPoints": f["main"],
        "promisedPoints": str(promised),
        "promisedPointsBreakup": {
            "delayedAccrualPoints": f["delayed"],
            "externalTriggerBasedPoints": f["trigger"],
        },
        "warnings": [],
    }


def schedule_body(entries: int = 2, **entry_fields) -> dict:
    start = FROZEN_AT.date() + timedelta(days=1)
    return {
        "entityId": MEMBER,
        "entityType": "CUSTOMER",
        "promisedPointsScheduleList": [
            {
                "points": "2",
                "redeemableFromISO": f"{start + timedelta(days=i)}T10:00:00+00:00",
                "programId": 2199,
                "pointsType": "bill_regular",
                **entry_fields,
            }
            for i in range(entries)
        ],
        "triggerBasedPointsList": [
            {"points": "50", "programId": 2199, "pointsType": "bill_regular"}
        ],
        "warnings": [],
    }


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return text.replace(".", "", 1).lstrip("-").isdigit()


def json_response(body: object, status: int = 200, request_id: str | None = None) -> Response:
    text = body if isinstance(body, str) else encode(body)
    headers = {"X-Cap-Requestid": request_id} if request_id else {}
    return Response(text, status=status, content_type="application/json", headers=headers)


def encode(body: object) -> str:
    """JSON text in which numeric strings ("1200.5") are sent as bare numbers."""

    def fix(value: object) -> object:
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and _is_number(value):
            return f"\x00{value}\x00"
        return value

    return json.dumps(fix(body)).replace('"\\u0000', "").replace('\\u0000"', "")


Handler = Callable[[Request], Response]


class FakeCapillary:
    """Dispatches each upstream call ("balance:2199", "balance:1933", "schedule", "token") to
    a handler; unset calls get a good answer. Records every request it saw."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.seen: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.lock = threading.Lock()
        # Handlers that stand for a hung upstream wait on this; set when the test ends, so
        # only the app's own limits can end a call, never a race with a late answer.
        self.released = threading.Event()

    @staticmethod
    def kind(request: Request) -> str:
        if request.path.endswith("/points/balance"):
            if request.args.get("fetchDataForAllPrograms") == "true":
                return "balance:all"
            return f"balance:{request.args.get('programId', 'default')}"
        if request.path.endswith("/promisedPointsSchedule"):
            return "schedule"
        if "oauth/token" in request.path:
            return "token"
        return request.path

    def __call__(self, request: Request) -> Response:
        kind = self.kind(request)
        with self.lock:
            self.seen.append((kind, dict(request.args), dict(request.headers)))
        handler = self.handlers.get(kind) or self.handlers.get("*")
        if handler is not None:
            return handler(request)
        if kind.startswith("balance:"):
            program = int(kind.split(":")[1])
            return json_response(balance_body(program), request_id=f"req-{kind}")
        if kind == "schedule":
            return json_response(schedule_body(), request_id="req-schedule")
        return Response("not here", status=404)

    def count(self, kind: str) -> int:
        return sum(1 for seen_kind, _, _ in self.seen if seen_kind == kind)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[HTTPServer]:
    """A threaded pytest-httpserver: the page's calls arrive at once, and some handlers sleep.

    One per module (stopping one takes half a second); each test installs a fresh fake.
    """
    httpserver = HTTPServer(threaded=True)
    httpserver.start()
    yield httpserver
    httpserver.clear()
    httpserver.stop()


@pytest.fixture
def fake(fake_server: HTTPServer) -> Iterator[FakeCapillary]:
    capillary = FakeCapillary()
    fake_server.clear()
    fake_server.expect_request(re.compile(".*")).respond_with_handler(capillary)
    yield capillary
    capillary.released.set()
    fake_server.clear()


@pytest.fixture
def agent(make_client, fake_server, fake):
    """make(**overrides) -> a signed-in agent of an app whose upstream is the fake."""

    def make(base_url: str | None = None, **overrides):
        config = {
            **FAST,
            "CAPILLARY_BASE_URL": base_url or fake_server.url_for("/"),
            "CAPILLARY_USERNAME": USERNAME,
            "CAPILLARY_PASSWORD": PASSWORD,
            **overrides,
        }
        return make_client(**config)

    return make


def respond(body: object = "", status: int = 200, **headers: str) -> Handler:
    def handler(_: Request) -> Response:
        data = body if isinstance(body, str | bytes) else encode(body)
        return Response(data, status=status, content_type="application/json", headers=headers)

    return handler
