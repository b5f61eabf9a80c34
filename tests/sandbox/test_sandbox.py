"""The sandbox speaks the documented contract: examples, program matrix, lookups, errors."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.sandbox.auth import basic_header
from app.sandbox.data import (
    DEMO_MEMBERS,
    DEMO_PROGRAMS,
    LEGACY_PROGRAM,
    MEMBER_DOC_BALANCE,
    MEMBER_DOC_SCHEDULE,
    MEMBER_DOC_TRIGGER,
    MEMBER_LARGE_SCHEDULE,
    MEMBER_LEGACY_PROGRAM,
    MEMBER_MULTI_PROGRAM,
    MEMBER_SCHEDULE_FAILS,
    MEMBER_WARNINGS,
    ORG_PROGRAMS,
    POINTS_TYPES,
)
from app.sandbox.server import SandboxServer

BALANCE = "v2/customers/{}/points/balance"
SCHEDULE = "v2/customers/{}/promisedPointsSchedule"
BALANCE_LOOKUP = "v2/customers/lookup/points/balance"
SCHEDULE_LOOKUP = "v2/customers/lookup/promisedPointsSchedule"

# capillary-api.md 1.5, 2.3, verbatim.
DOC_BALANCE = """{
  "entityId": 565039505,
  "entityType": "CUSTOMER",
  "totalPoints": 8500.000,
  "mainPoints": 8500.000,
  "promisedPoints": 0.000,
  "promisedPointsBreakup": {
    "delayedAccrualPoints": 0.000,
    "externalTriggerBasedPoints": 0.000
  },
  "warnings": []
}"""
DOC_SCHEDULE = """{
  "entityId": 374844123,
  "entityType": "CUSTOMER",
  "promisedPointsScheduleList": [
    {"points": 390.000, "redeemableFrom": "2022-04-10", "programId": 2199,
     "pointsType": "line_item_promotions"},
    {"points": 130.000, "redeemableFrom": "2022-04-10", "programId": 2199,
     "pointsType": "bill_regular"}
  ],
  "triggerBasedPointsList": [],
  "warnings": []
}"""
DOC_TRIGGER = """{"entityId": 342249069, "entityType": "CUSTOMER", "promisedPointsScheduleList": [],
 "triggerBasedPointsList": [{"points": 300.000, "programId": 890,
 "pointsType": "line_item_promotions"}],
 "warnings": []}"""


def parse(text: str) -> Any:
    """JSON with numbers as Decimal, so 8500.000 and 8500 compare by value and keep scale."""
    return json.loads(text, parse_float=Decimal)


def get(server: SandboxServer, path: str, **params: object) -> requests.Response:
    """GET with Basic auth; the body is read so the connection can close."""
    headers = {"Authorization": basic_header(server.username, server.password)}
    with requests.Session() as session:
        response = session.get(server.url + path, params=params, headers=headers, timeout=10)
        response.content
        return response


def ok(server: SandboxServer, path: str, **params: object) -> Any:
    """GET expecting 200; the parsed body."""
    response = get(server, path, **params)
    assert response.status_code == 200, response.text
    return parse(response.text)


def assert_error(response: requests.Response, code: int, status: int = 400) -> None:
    """The documented error body with this code, and a request id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"warnings", "errors"}
    assert body["warnings"] == []
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert set(error) == {"status", "code", "message"}
    assert error["status"] is False
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert_request_id(response)


def assert_request_id(response: requests.Response) -> None:
    """X-Cap-Requestid is a uuid4 hex."""
    value = response.headers["X-Cap-Requestid"]
    assert len(value) == 32
    assert uuid.UUID(hex=value).version == 4


def lookup(member_id: int, name: str = "mobile") -> dict[str, str]:
    """Lookup params naming a seeded member by one identifier."""
    member = next(m for m in DEMO_MEMBERS if m.id == member_id)
    return {
        "source": "INSTORE",
        "identifierName": name,
        "identifierValue": member.identifiers[name],
    }


# --- the documented examples, field for field ---------------------------------------------


def test_documented_balance_example(sandbox: SandboxServer) -> None:
    response = get(sandbox, BALANCE.format(MEMBER_DOC_BALANCE))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert_request_id(response)
    assert parse(response.text) == parse(DOC_BALANCE)
    assert list(parse(response.text)) == list(parse(DOC_BALANCE))  # same keys, same order
    assert '"totalPoints": 8500.000' in response.text
    assert '"promisedPoints": 0.000' in response.text


def test_documented_balance_by_lookup_and_explicit_program(sandbox: SandboxServer) -> None:
    expected = parse(DOC_BALANCE)
    assert ok(sandbox, BALANCE_LOOKUP, **lookup(MEMBER_DOC_BALANCE)) == expected
    explicit = ok(
        sandbox, BALANCE.format(MEMBER_DOC_BALANCE), programId=2199, fetchDataForAllPrograms="false"
    )
    assert explicit == expected


def test_documented_schedule_example(sandbox: SandboxServer) -> None:
    # The documented request, parameter for parameter.
    response = get(
        sandbox,
        SCHEDULE_LOOKUP,
        programId=2199,
        entityType="CUSTOMER",
        fetchDataForAllPrograms="false",
        identifierName="mobile",
        identifierValue="917752198768",
        source="INSTORE",
    )
    assert response.status_code == 200
    body = parse(response.text)
    assert body == parse(DOC_SCHEDULE)
    assert all("redeemableFromISO" not in e for e in body["promisedPointsScheduleList"])
    assert '"points": 390.000' in response.text


def test_documented_trigger_example(sandbox: SandboxServer) -> None:
    expected = parse(DOC_TRIGGER)
    assert ok(sandbox, SCHEDULE.format(MEMBER_DOC_TRIGGER), programId=890) == expected
    assert ok(sandbox, SCHEDULE.format(MEMBER_DOC_TRIGGER), fetchDataForAllPrograms="true") == (
        expected
    )
    assert (
        '"points": 300.000' in get(sandbox, SCHEDULE.format(MEMBER_DOC_TRIGGER), programId=890).text
    )


def test_documented_schedule_member_across_programs(sandbox: SandboxServer) -> None:
    body = ok(sandbox, SCHEDULE.format(MEMBER_DOC_SCHEDULE), fetchDataForAllPrograms="true")
    entries = body["promisedPointsScheduleList"]
    assert {e["programId"] for e in entries} == {2199, 1933}
    assert {
        "points": Decimal("75.500"),
        "redeemableFrom": "2022-05-02",
        "programId": 1933,
        "pointsType": "bill_promotions",
    } in entries


# --- programId x fetchDataForAllPrograms (capillary-api.md 1.4) ---------------------------


def balance_of(server: SandboxServer, member_id: int, **params: object) -> dict[str, Any]:
    """The parsed balance of a member."""
    return ok(server, BALANCE.format(member_id), **params)


def test_matrix_program_passed_all_false_gives_that_program(sandbox: SandboxServer) -> None:
    b = balance_of(sandbox, MEMBER_MULTI_PROGRAM, programId=1933, fetchDataForAllPrograms="false")
    assert b["mainPoints"] == Decimal("1310.750")


def test_matrix_program_omitted_all_false_gives_default(sandbox: SandboxServer) -> None:
    default = balance_of(sandbox, MEMBER_MULTI_PROGRAM, fetchDataForAllPrograms="false")
    bare = balance_of(sandbox, MEMBER_MULTI_PROGRAM)
    in_2199 = balance_of(sandbox, MEMBER_MULTI_PROGRAM, programId=2199)
    assert default == bare == in_2199
    assert default["mainPoints"] == Decimal("4200.000")


def test_matrix_all_true_ignores_program(sandbox: SandboxServer) -> None:
    everything = balance_of(sandbox, MEMBER_MULTI_PROGRAM, fetchDataForAllPrograms="true")
    with_program = balance_of(
        sandbox, MEMBER_MULTI_PROGRAM, programId=890, fetchDataForAllPrograms="true"
    )
    assert everything == with_program
    assert everything["mainPoints"] == Decimal("4200.000") + Decimal("1310.750") + Decimal("640")


def test_matrix_applies_to_schedule(sandbox: SandboxServer) -> None:
    path = SCHEDULE.format(MEMBER_MULTI_PROGRAM)
    only_1933 = ok(sandbox, path, programId=1933)["promisedPointsScheduleList"]
    default = ok(sandbox, path)["promisedPointsScheduleList"]
    everything = ok(sandbox, path, programId=1933, fetchDataForAllPrograms="true")
    assert {e["programId"] for e in only_1933} == {1933}
    assert {e["programId"] for e in default} == {2199}
    assert {e["programId"] for e in everything["promisedPointsScheduleList"]} == {2199, 1933, 890}
    assert {t["programId"] for t in everything["triggerBasedPointsList"]} == {2199, 890}


def test_balances_differ_per_program_and_all_programs_is_one_summed_object(
    sandbox: SandboxServer,
) -> None:
    per_program = [
        balance_of(sandbox, MEMBER_MULTI_PROGRAM, programId=p, fetchDataForAllPrograms="false")
        for p in DEMO_PROGRAMS
    ]
    assert len({b["totalPoints"] for b in per_program}) == 3
    summed = balance_of(sandbox, MEMBER_MULTI_PROGRAM, fetchDataForAllPrograms="true")
    assert set(summed) == set(parse(DOC_BALANCE))  # same flat shape, no per-program list
    for field in ("totalPoints", "mainPoints", "promisedPoints"):
        assert summed[field] == sum(b[field] for b in per_program)
    for field in ("delayedAccrualPoints", "externalTriggerBasedPoints"):
        expected = sum(b["promisedPointsBreakup"][field] for b in per_program)
        assert summed["promisedPointsBreakup"][field] == expected


def test_legacy_program_makes_named_sum_differ_from_all_programs(sandbox: SandboxServer) -> None:
    named = [
        balance_of(sandbox, MEMBER_LEGACY_PROGRAM, programId=p)["totalPoints"]
        for p in DEMO_PROGRAMS
    ]
    legacy = balance_of(sandbox, MEMBER_LEGACY_PROGRAM, programId=LEGACY_PROGRAM)["totalPoints"]
    everything = balance_of(sandbox, MEMBER_LEGACY_PROGRAM, fetchDataForAllPrograms="true")
    assert legacy > 0
    assert everything["totalPoints"] == sum(named) + legacy != sum(named)
    assert LEGACY_PROGRAM not in DEMO_PROGRAMS and LEGACY_PROGRAM in ORG_PROGRAMS


def test_all_programs_schedule_is_one_flat_unsorted_list(sandbox: SandboxServer) -> None:
    body = ok(sandbox, SCHEDULE.format(MEMBER_LARGE_SCHEDULE), fetchDataForAllPrograms="true")
    entries = body["promisedPointsScheduleList"]
    assert len(entries) == 480
    dates = [e["redeemableFrom"] for e in entries]
    programs = [e["programId"] for e in entries]
    assert dates != sorted(dates)
    assert programs != sorted(programs) and programs != sorted(programs, reverse=True)
    assert {e["pointsType"] for e in entries} == set(POINTS_TYPES)
    assert len(set(programs)) >= 3
    for entry in entries:
        assert entry["redeemableFromISO"] == entry["redeemableFrom"] + "T00:00:00+05:30"


def test_points_always_written_with_three_decimals(sandbox: SandboxServer) -> None:
    text = get(sandbox, SCHEDULE.format(MEMBER_MULTI_PROGRAM), fetchDataForAllPrograms="true").text
    assert '"points": 12.500' in text
    assert '"points": 7.125' in text
    raw = json.loads(text, parse_float=str)
    for entry in raw["promisedPointsScheduleList"] + raw["triggerBasedPointsList"]:
        whole, _, decimals = entry["points"].partition(".")
        assert whole.isdigit() and len(decimals) == 3


# --- lookups -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mobile", "email", "externalId", "cardnumber"])
@pytest.mark.parametrize("member", DEMO_MEMBERS, ids=lambda m: str(m.id))
def test_lookup_by_each_identifier_finds_the_member(sandbox: SandboxServer, member, name) -> None:
    params = {
        "source": "INSTORE",
        "identifierName": name,
        "identifierValue": member.identifiers[name],
    }
    by_lookup = ok(sandbox, BALANCE_LOOKUP, **params)
    by_id = ok(sandbox, BALANCE.format(member.id))
    assert by_lookup["entityId"] == member.id
    assert by_lookup == by_id


def test_schedule_lookup_matches_schedule_by_id(sandbox: SandboxServer) -> None:
    by_lookup = ok(
        sandbox, SCHEDULE_LOOKUP, fetchDataForAllPrograms="true", **lookup(MEMBER_MULTI_PROGRAM)
    )
    by_id = ok(sandbox, SCHEDULE.format(MEMBER_MULTI_PROGRAM), fetchDataForAllPrograms="true")
    assert by_lookup == by_id


def test_dual_identifiers_pick_the_mobile(sandbox: SandboxServer) -> None:
    # The documented dual-eligibility example: email first, mobile second.
    body = ok(
        sandbox,
        BALANCE_LOOKUP,
        source="INSTORE",
        identifierName="email,mobile",
        identifierValue="tomswayer@capillarytech1.com,915795008349",
    )
    assert body["entityId"] == MEMBER_DOC_TRIGGER
    # The mobile wins even when the email names someone else.
    other = ok(
        sandbox,
        BALANCE_LOOKUP,
        source="INSTORE",
        identifierName="mobile,email",
        identifierValue="919800000001,doc.balance@example.com",
    )
    assert other["entityId"] == MEMBER_MULTI_PROGRAM


def test_dual_identifiers_without_the_primary_are_not_found(sandbox: SandboxServer) -> None:
    response = get(
        sandbox,
        BALANCE_LOOKUP,
        source="INSTORE",
        identifierName="email,externalId",
        identifierValue="asha.rao@example.com,EXT-1001",
    )
    assert_error(response, 8015)


def test_dual_identifier_lists_of_unequal_length_are_8013(sandbox: SandboxServer) -> None:
    response = get(
        sandbox,
        SCHEDULE_LOOKUP,
        source="INSTORE",
        identifierName="email,mobile",
        identifierValue="asha.rao@example.com",
    )
    assert_error(response, 8013)


def test_wechat_with_account_id_is_accepted(sandbox: SandboxServer) -> None:
    params = {**lookup(MEMBER_MULTI_PROGRAM), "source": "WECHAT", "accountId": "wx-123"}
    assert ok(sandbox, BALANCE_LOOKUP, **params)["entityId"] == MEMBER_MULTI_PROGRAM


# --- warnings and the failing schedule -----------------------------------------------------


def test_warnings_member_carries_warnings_on_both_endpoints(sandbox: SandboxServer) -> None:
    balance = ok(sandbox, BALANCE.format(MEMBER_WARNINGS))
    schedule = ok(sandbox, SCHEDULE.format(MEMBER_WARNINGS))
    for body in (balance, schedule):
        codes = {w["code"] for w in body["warnings"]}
        assert codes == {8069, 8107}
        assert all(w["status"] is False and w["message"] for w in body["warnings"])
        assert "errors" not in body


def test_schedule_fails_member_has_a_balance_but_no_schedule(sandbox: SandboxServer) -> None:
    assert ok(sandbox, BALANCE.format(MEMBER_SCHEDULE_FAILS))["mainPoints"] == Decimal("990.000")
    for response in (
        get(sandbox, SCHEDULE.format(MEMBER_SCHEDULE_FAILS)),
        get(sandbox, SCHEDULE_LOOKUP, **lookup(MEMBER_SCHEDULE_FAILS)),
    ):
        assert response.status_code == 500
        assert response.json() == {
            "warnings": [],
            "errors": [
                {"status": False, "message": "All requests have failed due to errors", "code": 500}
            ],
        }
        assert_request_id(response)


# --- dates ---------------------------------------------------------------------------------


def test_dates_filter_inclusively_only_when_passed(sandbox: SandboxServer) -> None:
    path = SCHEDULE.format(MEMBER_DOC_SCHEDULE)
    everything = ok(sandbox, path, fetchDataForAllPrograms="true")["promisedPointsScheduleList"]
    assert len(everything) == 4
    window = ok(
        sandbox, path, fetchDataForAllPrograms="true", startDate="2022-04-10", endDate="2022-05-02"
    )["promisedPointsScheduleList"]
    assert sorted(e["redeemableFrom"] for e in window) == ["2022-04-10", "2022-04-10", "2022-05-02"]
    only_end = ok(sandbox, path, fetchDataForAllPrograms="true", endDate="2022-04-08")
    assert [e["redeemableFrom"] for e in only_end["promisedPointsScheduleList"]] == ["2022-04-08"]
    # The documented request's window (past start date) is accepted.
    documented = ok(sandbox, path, programId=1933, startDate="2022-04-01", endDate="2122-04-09")
    assert len(documented["promisedPointsScheduleList"]) == 2


def test_dates_do_not_filter_triggers(sandbox: SandboxServer) -> None:
    body = ok(sandbox, SCHEDULE.format(MEMBER_DOC_TRIGGER), programId=890, startDate="2030-01-01")
    assert len(body["triggerBasedPointsList"]) == 1


# --- errors --------------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param(BALANCE.format(999999999), {}, 8015, id="balance-unknown-id"),
    pytest.param(SCHEDULE.format(999999999), {}, 8015, id="schedule-unknown-id"),
    pytest.param(BALANCE.format("not-a-number"), {}, 8015, id="non-numeric-id"),
    pytest.param(
        BALANCE_LOOKUP,
        {"source": "INSTORE", "identifierName": "mobile", "identifierValue": "910000000000"},
        8015,
        id="unknown-mobile",
    ),
    pytest.param(
        SCHEDULE_LOOKUP,
        {"source": "INSTORE", "identifierName": "email", "identifierValue": "x@example.com"},
        8015,
        id="unknown-email",
    ),
    pytest.param(
        BALANCE_LOOKUP,
        {"source": "INSTORE", "identifierName": "wechat", "identifierValue": "wx-1"},
        8015,
        id="valid-name-nobody-has",
    ),
    pytest.param(
        BALANCE_LOOKUP,
        {"source": "INSTORE", "identifierName": "phone", "identifierValue": "919800000001"},
        8013,
        id="bad-identifier-name",
    ),
    pytest.param(
        BALANCE_LOOKUP,
        {"identifierName": "mobile", "identifierValue": "919800000001"},
        400,
        id="missing-source",
    ),
    pytest.param(
        SCHEDULE_LOOKUP, {"source": "INSTORE", "identifierName": "mobile"}, 400, id="missing-value"
    ),
    pytest.param(
        BALANCE_LOOKUP,
        {"source": "INSTORE", "identifierValue": "919800000001"},
        400,
        id="missing-name",
    ),
    pytest.param(
        BALANCE_LOOKUP,
        {"source": "WECHAT", "identifierName": "mobile", "identifierValue": "919800000001"},
        8045,
        id="wechat-without-account",
    ),
    pytest.param(
        SCHEDULE_LOOKUP,
        {"source": "FACEBOOK", "identifierName": "mobile", "identifierValue": "919800000001"},
        8045,
        id="facebook-without-account",
    ),
    pytest.param(BALANCE.format(MEMBER_MULTI_PROGRAM), {"programId": 1}, 885, id="balance-885"),
    pytest.param(SCHEDULE.format(MEMBER_MULTI_PROGRAM), {"programId": 7}, 885, id="schedule-885"),
    pytest.param(
        BALANCE.format(MEMBER_MULTI_PROGRAM), {"programId": "abc"}, 885, id="non-numeric-program"
    ),
    pytest.param(
        BALANCE.format(MEMBER_MULTI_PROGRAM), {"entityType": "STORE"}, 1212, id="entity-1212"
    ),
    pytest.param(
        SCHEDULE.format(MEMBER_MULTI_PROGRAM), {"entityType": "FLEET"}, 1632, id="fleet-1632"
    ),
    pytest.param(
        BALANCE.format(MEMBER_MULTI_PROGRAM), {"entityType": "FLEET"}, 1632, id="balance-fleet"
    ),
    pytest.param(
        SCHEDULE.format(MEMBER_MULTI_PROGRAM), {"startDate": "01-04-2022"}, 1216, id="date-1216"
    ),
    pytest.param(
        SCHEDULE.format(MEMBER_MULTI_PROGRAM), {"endDate": "2022-02-30"}, 1216, id="no-such-day"
    ),
    pytest.param(
        SCHEDULE.format(MEMBER_MULTI_PROGRAM),
        {"startDate": "2024-05-02", "endDate": "2024-05-01"},
        1214,
        id="start-after-end-1214",
    ),
    pytest.param(
        SCHEDULE.format(MEMBER_MULTI_PROGRAM), {"endDate": "2999-01-01"}, 1217, id="far-1217"
    ),
]


@pytest.mark.parametrize(("path", "params", "code"), ERROR_CASES)
def test_errors_have_the_documented_shape(
    sandbox: SandboxServer, path: str, params: dict[str, object], code: int
) -> None:
    assert_error(get(sandbox, path, **params), code)


def test_past_start_date_is_not_an_error(sandbox: SandboxServer) -> None:
    # No 1215: the docs' own examples pass past start dates.
    ok(sandbox, SCHEDULE.format(MEMBER_MULTI_PROGRAM), startDate="2020-01-01")


def test_unknown_path_answers_json_with_request_id(sandbox: SandboxServer) -> None:
    assert_error(get(sandbox, "v2/customers/1/nothing"), 404, status=404)
