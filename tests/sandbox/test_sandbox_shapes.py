"""The sandbox speaks the whole documented contract (capillary-api.md section 7), over HTTP:
one demo member per documented shape, the request rules (accountId, dual eligibility, refused
dates), the org's programs and the fault modes for the shapes no member can carry alone."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from app.sandbox import cli
from app.sandbox import data as demo
from app.sandbox.auth import basic_header
from app.sandbox.params import SOURCES
from app.sandbox.seed import build_members
from app.sandbox.server import SandboxServer, start_sandbox
from app.sandbox.story_data import STORY_MEMBERS
from tests.conftest import frozen_today

BALANCE = "v2/customers/{}/points/balance"
SCHEDULE = "v2/customers/{}/promisedPointsSchedule"
BALANCE_LOOKUP = "v2/customers/lookup/points/balance"
SCHEDULE_LOOKUP = "v2/customers/lookup/promisedPointsSchedule"
PROGRAMS = "v2/organization/programs"
DENIED_TEXT = "HttpStatusCode=403 errorMessage=Not authorized. Access is denied! errorCode=4000"
UNAVAILABLE_TEXT = (
    "HttpStatusCode=503 errorMessage=Authorization status unavailable! errorCode=4001"
)
DENIED_JSON = {"errorCode": 4000, "errorMessage": "Not authorized. Access is denied!"}
ORIGINAL_MEMBERS = (
    565039505,
    374844123,
    342249069,
    700000001,
    700000002,
    700000003,
    700000004,
    700000005,
)


def get(
    server: SandboxServer, path: str, *, auth: bool = True, **params: object
) -> requests.Response:
    """GET with the sandbox's Basic login (unless auth=False); the body is read."""
    headers = {"Authorization": basic_header(server.username, server.password)} if auth else {}
    with requests.Session() as session:
        response = session.get(server.url + path, params=params, headers=headers, timeout=10)
        response.content
        return response


def body_of(response: requests.Response, *, numbers: Any = Decimal) -> Any:
    """A 200 JSON body; decimals parsed with `numbers` (str keeps them as written)."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.text, parse_float=numbers)


def lookup(member_id: int, name: str = "mobile", source: str = "INSTORE") -> dict[str, str]:
    """Lookup params naming a member by one identifier."""
    member = demo.DEMO_MEMBERS_BY_ID[member_id]
    return {"source": source, "identifierName": name, "identifierValue": member.identifiers[name]}


def error_code(response: requests.Response) -> int:
    """The code of the documented errors[] body."""
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    errors = response.json()["errors"]
    assert len(errors) == 1
    return errors[0]["code"]


def has_request_id(response: requests.Response) -> bool:
    value = response.headers.get("X-Cap-Requestid")
    return value is not None and uuid.UUID(hex=value).version == 4


# --- the catalogue ---------------------------------------------------------------------------


def test_the_original_members_are_unchanged_and_the_shapes_come_after() -> None:
    assert tuple(m.id for m in demo.DEMO_MEMBERS) == ORIGINAL_MEMBERS
    assert demo.ALL_MEMBERS == demo.DEMO_MEMBERS + demo.SHAPE_MEMBERS
    assert [m.id for m in demo.SHAPE_MEMBERS] == [
        700000006,
        700000007,
        700000008,
        700000009,
        700000011,
        700000012,
        700000013,
        700000014,
        700000015,
        700000016,
        700000017,
        700000018,
        700000019,
        700000020,
    ]


def test_shape_members_follow_the_identifier_pattern_and_never_collide() -> None:
    for member in demo.SHAPE_MEMBERS:
        n = member.id - 700000000
        assert member.mobile == f"9198000000{n:02d}"
        assert (member.external_id, member.card_number) == (f"EXT-{1000 + n}", f"CARD-{1000 + n}")
        assert re.fullmatch(r"[a-z]+\.[a-z]+@example\.com", member.email)
    for kind in demo.IDENTIFIER_KINDS:
        values = [m.identifiers[kind] for m in demo.ALL_MEMBERS]
        assert len(values) == len(set(values)), kind
    seeded = build_members(frozen_today())
    assert {m.id for m in demo.ALL_MEMBERS} <= set(seeded)


# --- 7.1 response shapes, one member each --------------------------------------------------


def test_points_not_fetched_balance_is_zero_with_warning_91001(upstream: SandboxServer) -> None:
    member = demo.MEMBER_POINTS_NOT_FETCHED
    for response in (
        get(upstream, BALANCE.format(member)),
        get(upstream, BALANCE_LOOKUP, **lookup(member)),
    ):
        body = body_of(response)
        assert [w["code"] for w in body["warnings"]] == [91001]
        assert body["warnings"][0]["message"] == "Failed to get point details"
        figures = [body["totalPoints"], body["mainPoints"], body["promisedPoints"]]
        figures += list(body["promisedPointsBreakup"].values())
        assert figures == [Decimal(0)] * 5
        assert "errors" not in body
    # The member does have points: the schedule still lists what is promised.
    schedule = body_of(get(upstream, SCHEDULE.format(member)))
    assert [e["points"] for e in schedule["promisedPointsScheduleList"]] == [Decimal("45.000")]


def test_balance_without_promised_points(upstream: SandboxServer) -> None:
    response = get(upstream, BALANCE.format(demo.MEMBER_NO_PROMISED_FIELD))
    body = body_of(response)
    assert list(body) == [
        "entityId",
        "entityType",
        "totalPoints",
        "mainPoints",
        "promisedPointsBreakup",
        "warnings",
    ]
    breakup = body["promisedPointsBreakup"]
    assert breakup == {
        "delayedAccrualPoints": Decimal("120.000"),
        "externalTriggerBasedPoints": Decimal("30.000"),
    }
    assert body["totalPoints"] == body["mainPoints"] + Decimal("150") == Decimal("1650")


def test_points_as_integers(upstream: SandboxServer) -> None:
    member = demo.MEMBER_INTEGER_POINTS
    balance = get(upstream, BALANCE.format(member))
    assert '"mainPoints": 2040,' in balance.text
    body = body_of(balance, numbers=str)
    for value in (body["totalPoints"], body["mainPoints"], body["promisedPoints"]):
        assert type(value) is int
    assert (body["totalPoints"], body["promisedPoints"]) == (2340, 300)
    schedule = body_of(get(upstream, SCHEDULE.format(member)), numbers=str)
    assert [e["points"] for e in schedule["promisedPointsScheduleList"]] == [300]
    everything = body_of(get(upstream, BALANCE.format(member), fetchDataForAllPrograms="true"))
    assert everything["mainPoints"] == 2540


def test_negative_points_in_the_schedule(upstream: SandboxServer) -> None:
    member = demo.MEMBER_NEGATIVE_POINTS
    schedule = get(upstream, SCHEDULE.format(member))
    assert '"points": -40.000' in schedule.text
    entries = body_of(schedule)["promisedPointsScheduleList"]
    assert sorted(e["points"] for e in entries) == [Decimal("-40"), Decimal("100")]
    balance = body_of(get(upstream, BALANCE.format(member)))
    assert balance["promisedPointsBreakup"]["delayedAccrualPoints"] == Decimal("60")
    assert balance["totalPoints"] == Decimal("860")


def test_points_as_quoted_strings(upstream: SandboxServer) -> None:
    member = demo.MEMBER_STRING_POINTS
    balance = get(upstream, BALANCE_LOOKUP, **lookup(member, "email"))
    assert '"mainPoints": "350.000"' in balance.text
    body = body_of(balance)
    assert body["mainPoints"] == "350.000"
    assert body["promisedPointsBreakup"] == {
        "delayedAccrualPoints": "33.330",
        "externalTriggerBasedPoints": "20.000",
    }
    assert body["totalPoints"] == "403.330"
    schedule = body_of(get(upstream, SCHEDULE.format(member)))
    points = [e["points"] for e in schedule["promisedPointsScheduleList"]]
    points += [t["points"] for t in schedule["triggerBasedPointsList"]]
    assert points == ["33.330", "20.000"]


def test_warning_code_inside_errors_with_the_data(upstream: SandboxServer) -> None:
    member = demo.MEMBER_WARNING_IN_ERRORS
    merged = [{"status": False, "code": 8069, "message": "Merged customer found"}]
    balance = body_of(get(upstream, BALANCE.format(member)))
    schedule = body_of(get(upstream, SCHEDULE_LOOKUP, **lookup(member)))
    for body in (balance, schedule):
        assert body["entityId"] == member
        assert body["errors"] == merged
        assert body["warnings"] == []
    assert balance["mainPoints"] == Decimal("910")
    assert len(schedule["promisedPointsScheduleList"]) == 1


def test_access_refused_in_the_documented_text_form(upstream: SandboxServer) -> None:
    member = demo.MEMBER_DENIED_TEXT
    for response in (
        get(upstream, SCHEDULE.format(member)),
        get(upstream, SCHEDULE_LOOKUP, **lookup(member)),
    ):
        assert response.status_code == 403
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.text == DENIED_TEXT
        assert has_request_id(response)
    # Only the schedule needs the missing access group: the balance answers.
    assert body_of(get(upstream, BALANCE.format(member)))["mainPoints"] == Decimal("1250")


def test_access_refused_as_json_fields(upstream: SandboxServer) -> None:
    member = demo.MEMBER_DENIED_JSON
    for path in (BALANCE.format(member), SCHEDULE.format(member)):
        response = get(upstream, path)
        assert response.status_code == 403
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == DENIED_JSON


@pytest.mark.parametrize(
    ("member", "paths", "status", "says"),
    [
        (demo.MEMBER_CDN_522, (BALANCE, SCHEDULE), 522, "522: Connection timed out"),
        (demo.MEMBER_CDN_524, (SCHEDULE,), 524, "524: A timeout occurred"),
        (demo.MEMBER_CDN_BLOCKED, (BALANCE, SCHEDULE), 403, "Attention Required! | Cloudflare"),
    ],
    ids=["522", "524", "403-block-page"],
)
def test_cdn_pages(
    upstream: SandboxServer, member: int, paths: tuple[str, ...], status: int, says: str
) -> None:
    for path in paths:
        response = get(upstream, path.format(member))
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Server"] == "cloudflare"
        assert "CF-RAY" in response.headers
        assert f"<title>api.capillarytech.com | {says}</title>" in response.text or (
            f"<title>{says}</title>" in response.text
        )
        # The CDN answered, not the API: no request id of Capillary's.
        assert "X-Cap-Requestid" not in response.headers


def test_cdn_524_member_still_has_a_balance(upstream: SandboxServer) -> None:
    body = body_of(get(upstream, BALANCE.format(demo.MEMBER_CDN_524)))
    assert body["mainPoints"] == Decimal("3100")


def test_200_with_an_html_body(upstream: SandboxServer) -> None:
    member = demo.MEMBER_HTML_200
    response = get(upstream, BALANCE_LOOKUP, **lookup(member))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert body_of(get(upstream, SCHEDULE.format(member)))["entityId"] == member


# --- 7.2 request rules ---------------------------------------------------------------------


@pytest.mark.parametrize("source", [s for s in SOURCES if s != "INSTORE"])
def test_account_id_is_required_for_every_source_but_instore(
    upstream: SandboxServer, source: str
) -> None:
    params = lookup(demo.MEMBER_MULTI_PROGRAM, source=source)
    response = get(upstream, BALANCE_LOOKUP, **params)
    assert response.status_code == 400
    assert error_code(response) == 8045
    assert error_code(get(upstream, SCHEDULE_LOOKUP, **params)) == 8045
    found = body_of(get(upstream, BALANCE_LOOKUP, accountId="acct-1", **params))
    assert found["entityId"] == demo.MEMBER_MULTI_PROGRAM


def test_instore_needs_no_account_id(upstream: SandboxServer) -> None:
    body = body_of(get(upstream, BALANCE_LOOKUP, **lookup(demo.MEMBER_MULTI_PROGRAM)))
    assert body["entityId"] == demo.MEMBER_MULTI_PROGRAM


@pytest.mark.parametrize("name", ["email", "externalId", "cardnumber"])
def test_dual_eligibility_one_non_primary_identifier_is_8015(
    upstream: SandboxServer, name: str
) -> None:
    member = demo.MEMBER_DUAL_ELIGIBILITY
    for path in (BALANCE_LOOKUP, SCHEDULE_LOOKUP):
        response = get(upstream, path, **lookup(member, name))
        assert response.status_code == 400
        assert error_code(response) == 8015
    # A member of the regular kind is found by the same kind of identifier.
    regular = body_of(get(upstream, BALANCE_LOOKUP, **lookup(demo.MEMBER_MULTI_PROGRAM, name)))
    assert regular["entityId"] == demo.MEMBER_MULTI_PROGRAM


def test_dual_eligibility_member_is_found_by_the_primary_one_in_any_number_of_identifiers(
    upstream: SandboxServer,
) -> None:
    member = demo.MEMBER_DUAL_ELIGIBILITY
    info = demo.DEMO_MEMBERS_BY_ID[member]
    assert body_of(get(upstream, BALANCE_LOOKUP, **lookup(member)))["entityId"] == member
    assert body_of(get(upstream, BALANCE.format(member)))["entityId"] == member
    three = {
        "source": "INSTORE",
        "identifierName": "email,externalId,mobile",
        "identifierValue": f"{info.email},{info.external_id},{info.mobile}",
    }
    assert body_of(get(upstream, SCHEDULE_LOOKUP, **three))["entityId"] == member
    no_primary = {
        "source": "INSTORE",
        "identifierName": "email,externalId,cardnumber",
        "identifierValue": f"{info.email},{info.external_id},{info.card_number}",
    }
    assert error_code(get(upstream, BALANCE_LOOKUP, **no_primary)) == 8015


@pytest.mark.parametrize("field", ["startDate", "endDate"])
def test_past_date_refused_with_1215(upstream: SandboxServer, field: str) -> None:
    member = demo.MEMBER_PAST_DATE_REFUSED
    yesterday = (upstream.state.today - timedelta(days=1)).isoformat()
    response = get(upstream, SCHEDULE.format(member), **{field: yesterday})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"status": False, "code": 1215, "message": f"{field} cannot be a past date"}
    ]
    looked_up = get(upstream, SCHEDULE_LOOKUP, **{field: yesterday}, **lookup(member))
    assert error_code(looked_up) == 1215


def test_past_date_member_accepts_today_and_no_dates(upstream: SandboxServer) -> None:
    member = demo.MEMBER_PAST_DATE_REFUSED
    today = upstream.state.today.isoformat()
    assert len(body_of(get(upstream, SCHEDULE.format(member)))["promisedPointsScheduleList"]) == 1
    within = body_of(get(upstream, SCHEDULE.format(member), startDate=today))
    assert len(within["promisedPointsScheduleList"]) == 1
    # Other members keep the current docs' reading: past start dates are answered.
    other = get(upstream, SCHEDULE.format(demo.MEMBER_MULTI_PROGRAM), startDate="2020-01-01")
    assert other.status_code == 200


# --- the org's programs --------------------------------------------------------------------


def test_organization_programs_lists_the_demo_orgs_programs(upstream: SandboxServer) -> None:
    response = get(upstream, PROGRAMS)
    body = body_of(response)
    assert set(body) == {"data", "warnings", "errors"}
    assert body["warnings"] == [] and body["errors"] == []
    programs = {p["programId"]: p for p in body["data"]}
    assert {pid: p["programName"] for pid, p in programs.items()} == demo.ORG_PROGRAMS
    for program in programs.values():
        assert set(program) == {
            "programId",
            "programName",
            "programDescription",
            "tierBased",
            "default",
        }
        assert isinstance(program["programDescription"], str) and program["programDescription"]
        assert isinstance(program["tierBased"], bool)
    assert [pid for pid, p in programs.items() if p["default"]] == [demo.DEFAULT_PROGRAM]
    assert has_request_id(response)


def test_organization_programs_needs_credentials(upstream: SandboxServer) -> None:
    response = get(upstream, PROGRAMS, auth=False)
    assert response.status_code == 401
    assert error_code(response) == 401


# --- fault modes for the shapes that concern every member ----------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """A sandbox of this module's own, since the fault tests change its settings."""
    started = start_sandbox()
    yield started
    started.stop()


@pytest.fixture
def faulty(server: SandboxServer) -> Iterator[SandboxServer]:
    server.reset()
    yield server
    server.reset()


FAULTS = [
    ("access-denied", 403, "text/plain", DENIED_TEXT),
    ("authz-unavailable", 503, "text/plain", UNAVAILABLE_TEXT),
    ("access-denied-json", 403, "application/json", json.dumps(DENIED_JSON)),
    ("cdn-522", 522, "text/html", "<title>api.capillarytech.com | 522: Connection timed out"),
    ("cdn-524", 524, "text/html", "<title>api.capillarytech.com | 524: A timeout occurred"),
    ("cdn-blocked", 403, "text/html", "<h1>Sorry, you have been blocked</h1>"),
    ("html-200", 200, "text/html", "<h1>We'll be back soon</h1>"),
]


@pytest.mark.parametrize(("fault", "status", "content_type", "text"), FAULTS, ids=lambda v: v)
def test_contract_fault_modes(
    faulty: SandboxServer, fault: str, status: int, content_type: str, text: str
) -> None:
    faulty.configure(fault=fault)
    member = demo.MEMBER_DOC_BALANCE
    for path in (BALANCE.format(member), SCHEDULE.format(member), PROGRAMS):
        response = get(faulty, path)
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith(content_type)
        assert text in response.text
        assert has_request_id(response) is not fault.startswith("cdn-")


def test_fault_on_programs_leaves_the_member_calls(faulty: SandboxServer) -> None:
    faulty.configure(fault="cdn-522", fault_on="programs")
    assert get(faulty, PROGRAMS).status_code == 522
    assert get(faulty, BALANCE.format(demo.MEMBER_DOC_BALANCE)).status_code == 200


def test_cli_serves_a_contract_fault_and_lists_the_shape_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, int] = {}

    def exercise(running: SandboxServer) -> None:
        seen["balance"] = get(running, BALANCE.format(demo.MEMBER_DOC_BALANCE)).status_code
        seen["schedule"] = get(running, SCHEDULE.format(demo.MEMBER_DOC_BALANCE)).status_code

    monkeypatch.setattr(cli, "WAIT", exercise)
    result = CliRunner().invoke(
        cli.sandbox_cli, ["run", "--port", "0", "--fault", "cdn-524", "--fault-on", "balance"]
    )
    assert result.exit_code == 0, result.output
    assert seen == {"balance": 524, "schedule": 200}
    assert "fault=cdn-524 fault_on=balance" in result.output
    listed = re.findall(r"^\s+(\d{9})\s+mobile (\d{12})", result.output, flags=re.MULTILINE)
    assert listed == [(str(m.id), m.mobile) for m in (*demo.ALL_MEMBERS, *STORY_MEMBERS)]


# --- the shape members' figures still agree where both answers carry them --------------------


def _number(value: Any) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize(
    "member",
    [
        demo.MEMBER_NO_PROMISED_FIELD,
        demo.MEMBER_INTEGER_POINTS,
        demo.MEMBER_NEGATIVE_POINTS,
        demo.MEMBER_STRING_POINTS,
        demo.MEMBER_WARNING_IN_ERRORS,
        demo.MEMBER_DUAL_ELIGIBILITY,
        demo.MEMBER_PAST_DATE_REFUSED,
    ],
)
def test_shape_members_balance_matches_schedule(upstream: SandboxServer, member: int) -> None:
    balance = body_of(get(upstream, BALANCE.format(member)))
    schedule = body_of(get(upstream, SCHEDULE.format(member)))
    delayed = sum((_number(e["points"]) for e in schedule["promisedPointsScheduleList"]), Decimal())
    trigger = sum((_number(t["points"]) for t in schedule["triggerBasedPointsList"]), Decimal())
    breakup = balance["promisedPointsBreakup"]
    assert _number(breakup["delayedAccrualPoints"]) == delayed
    assert _number(breakup["externalTriggerBasedPoints"]) == trigger
    assert _number(balance["totalPoints"]) == _number(balance["mainPoints"]) + delayed + trigger
