"""CapillaryClient against a real HTTP server: requests sent, results parsed, errors typed."""

from __future__ import annotations

import copy
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.capillary import (
    AccessDenied,
    Balance,
    BasicAuth,
    CapillaryClient,
    Identifier,
    InvalidDate,
    InvalidProgram,
    MalformedResponse,
    MemberLookup,
    MemberNotFound,
    OAuthAuth,
    PromisedSchedule,
    RateLimited,
    UpstreamApiError,
    UpstreamMessage,
    UpstreamMisconfigured,
    UpstreamUnavailable,
    UpstreamUnreachable,
    get_client,
)
from app.capillary.models import IDENTIFIER_NAMES
from app.explanations import EXPLANATIONS, STATUS_EXPLANATIONS, explain
from tests.support.capillary_support import (
    BALANCE,
    EMAIL,
    MOBILE,
    PASSWORD,
    SCHEDULE,
    fast_client,
    to_json,
)

JSON = "application/json"
BY_EMAIL = MemberLookup(identifiers=(Identifier("email", EMAIL),))
DUAL = MemberLookup(identifiers=(Identifier("email", EMAIL), Identifier("mobile", MOBILE)))


@pytest.fixture
def client(httpserver: HTTPServer):
    """A fast client pointed at the test server, closed afterwards."""
    with fast_client(httpserver.url_for("/")) as made:
        yield made


def serve(httpserver: HTTPServer, path: str, body: object, status: int = 200, **headers: str):
    """Answer every request for path with body (a dict made JSON, or raw text)."""
    text = body if isinstance(body, str) else to_json(body)
    httpserver.expect_request(path).respond_with_data(
        text, status=status, content_type=JSON, headers=headers
    )


def seen(httpserver: HTTPServer) -> list[Request]:
    """The requests the server received, in order."""
    return [request for request, _ in httpserver.log]


# Endpoint forms and parameters ------------------------------------------------------------


def test_balance_by_customer_id_sends_documented_path_and_query(httpserver, client):
    serve(httpserver, "/v2/customers/565039505/points/balance", BALANCE)

    client.get_balance(565039505)

    (request,) = seen(httpserver)
    assert request.method == "GET"
    assert request.path == "/v2/customers/565039505/points/balance"
    assert request.query_string == b"fetchDataForAllPrograms=false&entityType=CUSTOMER"
    assert request.headers["Accept"] == JSON
    assert request.headers["Content-Type"] == JSON
    assert "fetchEarliestExpiryOnly" not in request.args


def test_balance_lookup_with_program_and_all_programs(httpserver, client):
    serve(httpserver, "/v2/customers/lookup/points/balance", BALANCE)
    member = MemberLookup(identifiers=(Identifier("email", EMAIL),), account_id="acc-1")

    client.get_balance(member, program_id=2199, all_programs=True, entity_type="FLEET")

    (request,) = seen(httpserver)
    assert request.path == "/v2/customers/lookup/points/balance"
    assert list(request.args.items(multi=True)) == [
        ("source", "INSTORE"),
        ("identifierName", "email"),
        ("identifierValue", EMAIL),
        ("accountId", "acc-1"),
        ("programId", "2199"),
        ("fetchDataForAllPrograms", "true"),
        ("entityType", "FLEET"),
    ]
    # The "+" of the email is percent-encoded, not left to be read as a space.
    assert b"identifierValue=ann%2Bloyalty%40example.com" in request.query_string


def test_dual_identifiers_are_comma_joined_in_the_same_order(httpserver, client):
    serve(httpserver, "/v2/customers/lookup/points/balance", BALANCE)

    client.get_balance(DUAL)

    (request,) = seen(httpserver)
    assert request.args["identifierName"] == "email,mobile"
    assert request.args["identifierValue"] == f"{EMAIL},{MOBILE}"
    assert b"identifierName=email%2Cmobile&" in request.query_string


def test_schedule_by_id_with_dates(httpserver, client):
    serve(httpserver, "/v2/customers/42/promisedPointsSchedule", SCHEDULE)

    client.get_schedule(42, program_id=7, start_date=date(2026, 1, 2), end_date=date(2026, 3, 4))

    (request,) = seen(httpserver)
    assert request.query_string == (
        b"programId=7&fetchDataForAllPrograms=false&entityType=CUSTOMER"
        b"&startDate=2026-01-02&endDate=2026-03-04"
    )


def test_schedule_lookup_without_dates_sends_none(httpserver, client):
    serve(httpserver, "/v2/customers/lookup/promisedPointsSchedule", SCHEDULE)
    member = MemberLookup(identifiers=(Identifier("mobile", MOBILE),), source="WECHAT")

    client.get_schedule(member, all_programs=True)

    (request,) = seen(httpserver)
    assert request.path == "/v2/customers/lookup/promisedPointsSchedule"
    assert list(request.args) == [
        "source",
        "identifierName",
        "identifierValue",
        "fetchDataForAllPrograms",
        "entityType",
    ]
    assert request.args["source"] == "WECHAT"


@pytest.mark.parametrize("member", [True, -5, 0, 1.5, "42", "../admin", None])
def test_bad_customer_ids_are_refused_before_any_request(httpserver, client, member):
    with pytest.raises(ValueError):
        client.get_balance(member)
    assert seen(httpserver) == []


@pytest.mark.parametrize(
    ("kwargs", "member"),
    [
        ({"program_id": True}, 1),
        ({"program_id": "2199"}, 1),
        ({"all_programs": "yes"}, 1),
        ({"entity_type": ""}, 1),
        ({"start_date": datetime(2026, 1, 1, tzinfo=UTC)}, 1),
        ({"end_date": "2026-01-01"}, 1),
        ({}, MemberLookup(identifiers=())),
        ({}, MemberLookup(identifiers=(Identifier("email", "a@b.c,d@e.f"),))),
        ({}, MemberLookup(identifiers=(Identifier("email", " "),))),
        ({}, MemberLookup(identifiers=())),
        ({"entity_type": "GROUP"}, 1),
        ({"entity_type": "customer"}, 1),
        ({}, MemberLookup(identifiers=(Identifier("phone", EMAIL),))),
        ({}, MemberLookup(identifiers=(Identifier("Email", EMAIL),))),
        ({}, MemberLookup(identifiers=(Identifier("email", EMAIL), Identifier("id", MOBILE)))),
        ({}, MemberLookup(identifiers=(Identifier(EMAIL, EMAIL),))),
    ],
)
def test_bad_arguments_are_refused_before_any_request(httpserver, client, kwargs, member):
    with pytest.raises(ValueError) as caught:
        client.get_schedule(member, **kwargs)
    assert seen(httpserver) == []
    for value in ("a@b.c", EMAIL, MOBILE, "ann"):
        assert value not in str(caught.value)


@pytest.mark.parametrize("name", IDENTIFIER_NAMES)
def test_every_documented_identifier_name_is_sent(httpserver, client, name):
    serve(httpserver, "/v2/customers/lookup/points/balance", BALANCE)

    client.get_balance(MemberLookup(identifiers=(Identifier(name, "x1"),)), entity_type="FLEET")

    (request,) = seen(httpserver)
    assert (request.args["identifierName"], request.args["entityType"]) == (name, "FLEET")


# Parsing -----------------------------------------------------------------------------------


def test_balance_points_are_exact_decimals(httpserver, client):
    body = copy.deepcopy(BALANCE)
    body["programId"] = 115
    body["unexpectedNewField"] = {"anything": [1, 2]}
    body["warnings"] = [{"message": "no code here"}]
    serve(httpserver, "/v2/customers/1/points/balance", body, **{"X-Cap-Requestid": "req-77"})

    balance = client.get_balance(1)

    assert balance == Balance(
        entity_id=565039505,
        entity_type="CUSTOMER",
        total_points=Decimal("8500.000"),
        main_points=Decimal("8500.000"),
        promised_points=Decimal("0.000"),
        delayed_accrual_points=Decimal("0.000"),
        external_trigger_points=Decimal("0.000"),
        program_id=115,
        warnings=(UpstreamMessage(code=None, message="no code here"),),
        request_id="req-77",
    )
    assert str(balance.total_points) == "8500.000"


def test_balance_without_program_id_or_warnings(httpserver, client):
    body = {k: v for k, v in BALANCE.items() if k != "warnings"}
    serve(httpserver, "/v2/customers/1/points/balance", body)

    balance = client.get_balance(1)

    assert balance.program_id is None
    assert balance.warnings == ()
    assert balance.request_id is None


def test_schedule_prefers_iso_time_and_reads_legacy_dates_in_cluster_zone(httpserver):
    serve(httpserver, "/v2/customers/1/promisedPointsSchedule", SCHEDULE)
    kolkata = ZoneInfo("Asia/Kolkata")

    with fast_client(httpserver.url_for("/"), cluster_timezone=kolkata) as client:
        schedule = client.get_schedule(1)

    assert isinstance(schedule, PromisedSchedule)
    legacy, iso_offset, iso_z = schedule.entries
    assert legacy.redeemable_from == datetime(2022, 4, 10, tzinfo=kolkata)
    assert legacy.redeemable_from.utcoffset() == timedelta(hours=5, minutes=30)
    assert legacy.points == Decimal("390.000")
    assert legacy.expiry_type is None
    ist = timezone(timedelta(hours=5, minutes=30))
    assert iso_offset.redeemable_from == datetime(2025, 12, 16, 14, 30, 45, tzinfo=ist)
    assert iso_offset.redeemable_from.utcoffset() == timedelta(hours=5, minutes=30)
    assert iso_offset.expiry_type == "rolling"
    assert iso_offset.points == Decimal("130.500")
    assert iso_z.redeemable_from == datetime(2025, 12, 16, 14, 30, 45, tzinfo=UTC)
    assert iso_z.points == Decimal(12)
    assert all(entry.redeemable_from.tzinfo is not None for entry in schedule.entries)
    (trigger,) = schedule.triggers
    assert (trigger.points, trigger.program_id) == (Decimal("300.000"), 890)
    assert schedule.warnings == (UpstreamMessage(8107, "Default customer status label not set"),)


def test_schedule_legacy_date_defaults_to_utc(httpserver, client):
    serve(httpserver, "/v2/customers/1/promisedPointsSchedule", SCHEDULE)

    entry = client.get_schedule(1).entries[0]

    assert entry.redeemable_from == datetime(2022, 4, 10, tzinfo=UTC)


def test_schedule_missing_lists_are_empty(httpserver, client):
    serve(httpserver, "/v2/customers/1/promisedPointsSchedule", {"entityId": 1, "entityType": "X"})

    schedule = client.get_schedule(1)

    assert (schedule.entries, schedule.triggers, schedule.warnings) == ((), (), ())


BAD_BALANCES = {
    "string points": ('"totalPoints": 8500.000', '"totalPoints": "85 00"', "totalPoints"),
    "NaN string points": ('"totalPoints": 8500.000', '"totalPoints": "NaN"', "totalPoints"),
    "exponent string": ('"mainPoints": 8500.000', '"mainPoints": "1e400"', "mainPoints"),
    "bool points": ('"promisedPoints": 0.000', '"promisedPoints": true', "promisedPoints"),
    "absurd points": ('"totalPoints": 8500.000', '"totalPoints": 1e308', "totalPoints"),
    "huge int points": ('"mainPoints": 8500.000', '"mainPoints": 1' + "0" * 15, "mainPoints"),
    "NaN points": ('"totalPoints": 8500.000', '"totalPoints": NaN', "NaN"),
    "Infinity points": ('"totalPoints": 8500.000', '"totalPoints": -Infinity', "NaN"),
    "breakup not an object": (
        '"promisedPointsBreakup": {"delayedAccrualPoints": 0.000, '
        '"externalTriggerBasedPoints": 0.000}',
        '"promisedPointsBreakup": [1]',
        "promisedPointsBreakup",
    ),
    "string entity id": ('"entityId": 565039505', '"entityId": "565039505"', "entityId"),
}


@pytest.mark.parametrize("case", BAD_BALANCES.values(), ids=BAD_BALANCES.keys())
def test_bad_points_and_fields_are_malformed_responses(httpserver, client, case):
    old, new, named = case
    assert old in to_json(BALANCE)
    serve(httpserver, "/v2/customers/1/points/balance", to_json(BALANCE).replace(old, new))

    with pytest.raises(MalformedResponse) as caught:
        client.get_balance(1)

    assert named in str(caught.value)


BAD_SCHEDULES = {
    "no date at all": {"points": 1, "programId": 1, "pointsType": "bill_regular"},
    "bad legacy date": {
        "points": 1,
        "programId": 1,
        "pointsType": "x",
        "redeemableFrom": "10/04/2022",
    },
    "bad iso": {"points": 1, "programId": 1, "pointsType": "x", "redeemableFromISO": "soon"},
    "no program": {"points": 1, "pointsType": "x", "redeemableFrom": "2022-04-10"},
    "not an object": "entry",
}


@pytest.mark.parametrize("entry", BAD_SCHEDULES.values(), ids=BAD_SCHEDULES.keys())
def test_bad_schedule_entries_name_the_field(httpserver, client, entry):
    body = {"entityId": 1, "entityType": "CUSTOMER", "promisedPointsScheduleList": [entry]}
    serve(httpserver, "/v2/customers/1/promisedPointsSchedule", body)

    with pytest.raises(MalformedResponse, match=r"promisedPointsScheduleList\[0\]"):
        client.get_schedule(1)


@pytest.mark.parametrize(
    "text",
    ["", "   ", '{"entityId": 1, "totalPo', "[1, 2]", "42", "<?xml version='1.0'?><a/>"],
    ids=["empty", "blank", "truncated", "array", "number", "xml"],
)
def test_bodies_that_are_not_a_json_object_are_malformed(httpserver, client, text):
    serve(httpserver, "/v2/customers/1/points/balance", text)

    with pytest.raises(MalformedResponse) as caught:
        client.get_balance(1)

    assert caught.value.status == 200


def test_html_5xx_page_is_unavailable_with_its_status(httpserver):
    httpserver.expect_request("/v2/customers/1/points/balance").respond_with_data(
        "<html>Internal error</html>", status=500, content_type="text/html"
    )
    with fast_client(httpserver.url_for("/")) as client, pytest.raises(UpstreamUnreachable) as c:
        client.get_balance(1)

    assert (c.value.status, c.value.code) == (500, None)
    assert explain(c.value).startswith("Points Desk could not reach the loyalty system")


# Errors ------------------------------------------------------------------------------------

MAPPED = [
    (8015, 400, MemberNotFound),
    (885, 400, InvalidProgram),
    (1213, 400, InvalidProgram),
    (1212, 400, UpstreamApiError),
    (1632, 400, UpstreamApiError),
    (1214, 400, InvalidDate),
    (1215, 400, InvalidDate),
    (1216, 400, InvalidDate),
    (1217, 400, InvalidDate),
    (8013, 400, UpstreamApiError),
    (8045, 400, UpstreamApiError),
    (4000, 403, AccessDenied),
    (4001, 503, UpstreamUnavailable),
]


@pytest.mark.parametrize(("code", "status", "cls"), MAPPED)
def test_mapped_codes_raise_their_class_and_explanation(httpserver, client, code, status, cls):
    body = {
        "warnings": [],
        "errors": [{"status": False, "code": code, "message": f"upstream says {code}"}],
    }
    serve(
        httpserver, "/v2/customers/lookup/points/balance", body, status, **{"X-Cap-Requestid": "r1"}
    )

    with pytest.raises(cls) as caught:
        client.get_balance(BY_EMAIL)

    error = caught.value
    assert type(error) is cls
    assert (error.code, error.status, error.request_id) == (code, status, "r1")
    assert f"upstream says {code}" in error.message
    assert explain(error) == EXPLANATIONS[code]
    assert EMAIL not in str(error)
    assert PASSWORD not in str(error)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses_without_body_are_access_denied(httpserver, client, status):
    serve(httpserver, "/v2/customers/1/points/balance", "", status)

    with pytest.raises(AccessDenied) as caught:
        client.get_balance(1)

    assert (caught.value.code, caught.value.status) == (None, status)
    assert explain(caught.value) == STATUS_EXPLANATIONS[status]
    assert len(seen(httpserver)) == 1  # Basic auth: a fresh attempt could not help


@pytest.mark.parametrize(
    ("status", "explanation"),
    [(400, STATUS_EXPLANATIONS[400]), (200, "does not recognise")],
)
def test_unknown_code_keeps_its_number_and_message(httpserver, client, status, explanation):
    body = {"errors": [{"code": 99123, "message": "Something new"}]}
    serve(httpserver, "/v2/customers/1/points/balance", body, status)

    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)

    assert type(caught.value) is UpstreamApiError
    assert (caught.value.code, caught.value.status) == (99123, status)
    assert "Something new" in str(caught.value)
    assert explanation in explain(caught.value)


def test_errors_array_in_a_200_is_an_error(httpserver, client):
    body = {"warnings": [], "errors": [{"status": False, "code": 8015, "message": "Not found"}]}
    serve(httpserver, "/v2/customers/lookup/promisedPointsSchedule", body)

    with pytest.raises(MemberNotFound) as caught:
        client.get_schedule(DUAL)

    assert (caught.value.code, caught.value.status) == (8015, 200)


# 8069 "Merged customer found": a warning by its code ([LOOKUP-SC]; capillary-api.md 7.1).
MERGED = {"status": False, "code": 8069, "message": "Merged customer found"}


def test_a_merged_member_notice_in_errors_of_a_200_with_data_is_a_warning(httpserver, client):
    body = dict(BALANCE, warnings=[{"code": 8107, "message": "label"}], errors=[MERGED])
    serve(httpserver, "/v2/customers/lookup/points/balance", body)

    balance = client.get_balance(BY_EMAIL)

    assert balance.entity_id == 565039505
    assert balance.warnings == (
        UpstreamMessage(8107, "label"),
        UpstreamMessage(8069, "Merged customer found"),
    )
    assert len(seen(httpserver)) == 1


def test_a_merged_member_notice_on_a_schedule_is_a_warning(httpserver, client):
    serve(
        httpserver, "/v2/customers/lookup/promisedPointsSchedule", dict(SCHEDULE, errors=[MERGED])
    )

    schedule = client.get_schedule(BY_EMAIL)

    assert len(schedule.entries) == 3
    assert UpstreamMessage(8069, "Merged customer found") in schedule.warnings


@pytest.mark.parametrize(
    ("body", "status", "cls", "code"),
    [
        ({"warnings": [], "errors": [MERGED]}, 200, UpstreamApiError, 8069),
        (dict(BALANCE, errors=[MERGED, {"code": 8015, "message": "x"}]), 200, MemberNotFound, 8015),
        (dict(BALANCE, errors=[MERGED]), 400, UpstreamApiError, 8069),
    ],
    ids=["no data", "with a real error", "non-2xx"],
)
def test_a_merged_member_notice_without_usable_data_still_fails(
    httpserver, client, body, status, cls, code
):
    serve(httpserver, "/v2/customers/lookup/points/balance", body, status)

    with pytest.raises(cls) as caught:
        client.get_balance(BY_EMAIL)

    assert type(caught.value) is cls
    assert caught.value.code == code


def test_whole_request_failure_shape(httpserver, client):
    body = {"errors": [{"status": False, "message": "All requests have failed", "code": 500}]}
    serve(httpserver, "/v2/customers/1/points/balance", body)

    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)

    assert caught.value.code == 500


@pytest.mark.parametrize("body", [{"warnings": []}, {"errors": [{"message": "no code"}]}, ""])
def test_an_answer_without_an_upstream_code_keeps_code_none_and_the_status(
    httpserver, client, body
):
    serve(httpserver, "/v2/customers/1/points/balance", body, 400)

    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)

    assert (caught.value.code, caught.value.status) == (None, 400)
    assert "code" not in str(caught.value).replace("no code", "")
    assert explain(caught.value) == STATUS_EXPLANATIONS[400]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, ""),
        (404, {"warnings": []}),
        (405, "<html>Method Not Allowed</html>"),
        (415, {"errors": [{"message": "no code"}]}),
        (418, ""),
        (404, {"errors": [{"status": False, "code": 404, "message": "Not Found"}]}),
    ],
)
def test_a_4xx_that_is_not_about_the_request_means_a_misconfigured_address(
    httpserver, client, status, body
):
    serve(httpserver, "/v2/customers/lookup/points/balance", body, status)

    with pytest.raises(UpstreamMisconfigured) as caught:
        client.get_balance(BY_EMAIL)

    assert isinstance(caught.value, UpstreamUnavailable)
    assert caught.value.status == status
    assert explain(caught.value) == (
        f"Points Desk's connection to the loyalty system is misconfigured "
        f"(the address answered HTTP {status})."
    )
    assert len(seen(httpserver)) == 1


@pytest.mark.parametrize(("status", "kind"), [(400, UpstreamApiError), (429, RateLimited)])
def test_a_400_or_429_without_a_code_is_still_a_refusal(httpserver, client, status, kind):
    serve(httpserver, "/v2/customers/1/points/balance", "", status)

    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)

    # A 429 is a refusal too, of its own kind: the lookup side pauses everyone on it.
    assert type(caught.value) is kind


@pytest.mark.parametrize(
    ("header", "seconds", "moment"),
    [
        ("90", 90.0, None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None, datetime(2026, 10, 21, 7, 28, tzinfo=UTC)),
        (None, None, None),
    ],
)
def test_a_429_carries_its_retry_after_and_is_not_retried(
    httpserver, client, header, seconds, moment
):
    body = '{"errors": [{"code": 429, "message": "Too many requests"}]}'
    headers = {"Retry-After": header} if header else {}
    httpserver.expect_request("/v2/customers/1/points/balance").respond_with_data(
        body, status=429, content_type="application/json", headers=headers
    )

    with pytest.raises(RateLimited) as caught:
        client.get_balance(1)

    assert (caught.value.retry_after, caught.value.retry_at) == (seconds, moment)
    assert caught.value.code == 429 and caught.value.status == 429
    assert len(seen(httpserver)) == 1


def test_a_token_address_that_answers_404_is_misconfigured_not_denied(httpserver):
    serve(httpserver, "/v3/oauth/token/generate", "", 404)

    with fast_client(httpserver.url_for("/"), OAuthAuth("key", "secret")) as client:
        with pytest.raises(UpstreamMisconfigured) as caught:
            client.get_balance(1)

    assert caught.value.status == 404


def test_identifier_echoed_by_upstream_is_redacted(httpserver, client):
    body = {"errors": [{"code": 8015, "message": f"No customer for {EMAIL} / {MOBILE}"}]}
    serve(httpserver, "/v2/customers/lookup/points/balance", body, 400)

    with pytest.raises(MemberNotFound) as caught:
        client.get_balance(DUAL)

    text = str(caught.value) + repr(caught.value) + caught.value.message
    assert EMAIL not in text
    assert MOBILE not in text
    assert "[redacted]" in str(caught.value)


# Configuration, app wiring and threads -----------------------------------------------------


def test_from_config_builds_each_auth_mode(httpserver):
    config = {
        "CAPILLARY_BASE_URL": httpserver.url_for("/"),
        "CAPILLARY_AUTH": "oauth",
        "CAPILLARY_OAUTH_KEY": "k",
        "CAPILLARY_OAUTH_SECRET": "s",
        "CAPILLARY_CLUSTER_TIMEZONE": "Asia/Kolkata",
        "CAPILLARY_CONNECT_TIMEOUT": 1.0,
        "CAPILLARY_READ_TIMEOUT": 2.0,
        "CAPILLARY_CALL_DEADLINE": 3.0,
        "CAPILLARY_RETRIES": 1,
        "CAPILLARY_MAX_RESPONSE_BYTES": 1000,
    }
    with CapillaryClient.from_config(config) as client:
        assert isinstance(client.auth, OAuthAuth)
        assert client.cluster_timezone == ZoneInfo("Asia/Kolkata")
        assert "s" not in repr(client.auth).replace("OAuthAuth", "")
    config.update(CAPILLARY_AUTH="basic", CAPILLARY_USERNAME="u", CAPILLARY_PASSWORD=PASSWORD)
    config["CAPILLARY_CLUSTER_TIMEZONE"] = None
    with CapillaryClient.from_config(config) as client:
        assert isinstance(client.auth, BasicAuth)
        assert client.cluster_timezone is UTC
        assert PASSWORD not in repr(client)
    with pytest.raises(ValueError, match="CAPILLARY_CLUSTER_TIMEZONE"):
        CapillaryClient.from_config({**config, "CAPILLARY_CLUSTER_TIMEZONE": "Mars/Base"})


def test_get_client_returns_the_registered_client(httpserver):
    app = Flask(__name__)
    with fast_client(httpserver.url_for("/")) as client:
        app.extensions["capillary"] = client
        with app.app_context():
            assert get_client() is client


def test_twenty_concurrent_calls_from_ten_threads():
    expected_auth = BasicAuth("till.one", PASSWORD).headers(None)["Authorization"]

    def answer(request: Request) -> Response:
        customer = int(request.path.split("/")[3])
        if request.headers.get("Authorization") != expected_auth:
            return Response("", status=401)
        body = dict(BALANCE, entityId=customer)
        return Response(to_json(body), content_type=JSON)

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request(re.compile(r"/v2/customers/\d+/points/balance")).respond_with_handler(
        answer
    )
    server.start()
    try:
        with fast_client(server.url_for("/"), deadline=5.0, read_timeout=3.0) as client:
            thread_ids: set[int] = set()

            def call(customer: int) -> Balance:
                thread_ids.add(threading.get_ident())
                return client.get_balance(customer)

            with ThreadPoolExecutor(max_workers=10) as pool:
                results = list(pool.map(call, range(1001, 1021)))
            assert [b.entity_id for b in results] == list(range(1001, 1021))
            assert all(b.total_points == Decimal("8500.000") for b in results)
            assert 1 < len(thread_ids) <= 10
            assert len(client._transport._sessions) <= 10
    finally:
        server.clear()
        server.stop()
