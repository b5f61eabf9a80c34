"""The client against the documented shapes and request rules of capillary-api.md section 7,
answered by a real HTTP server (pytest-httpserver)."""

from __future__ import annotations

import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from app import create_app
from app.capillary import (
    AccessDenied,
    CapillaryClient,
    Identifier,
    MalformedResponse,
    MemberLookup,
    PointsNotFetched,
    Program,
    UpstreamApiError,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from app.capillary.hosts import cluster_zone_for
from app.config_rules import ConfigError
from app.explanations import explain
from tests.conftest import sandbox_config
from tests.support.capillary_support import BALANCE, MOBILE, SCHEDULE, fast_client, to_json

JSON = "application/json"
BALANCE_PATH = "/v2/customers/1/points/balance"
SCHEDULE_PATH = "/v2/customers/1/promisedPointsSchedule"
LOOKUP_PATH = "/v2/customers/lookup/points/balance"
POINTS_NOT_FETCHED = {"status": False, "code": 91001, "message": "Failed to get point details"}
ZEROED = dict(
    BALANCE,
    totalPoints="__0.000__",
    mainPoints="__0.000__",
    warnings=[POINTS_NOT_FETCHED],
)


@pytest.fixture
def client(httpserver: HTTPServer):
    with fast_client(httpserver.url_for("/")) as made:
        yield made


def serve(httpserver, path, body, status=200, content_type=JSON):
    text = body if isinstance(body, str) else to_json(body)
    httpserver.expect_request(path).respond_with_data(
        text, status=status, content_type=content_type
    )


def requests_to(httpserver, path):
    return [request for request, _ in httpserver.log if request.path == path]


# --- 91001 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [ZEROED, dict(BALANCE, errors=[POINTS_NOT_FETCHED])],
    ids=["zeros with the warning", "in errors[] beside the data"],
)
def test_a_balance_carrying_91001_is_a_failed_call(httpserver, client, body):
    serve(httpserver, BALANCE_PATH, body)
    with pytest.raises(PointsNotFetched) as caught:
        client.get_balance(1)
    assert (caught.value.code, caught.value.status) == (91001, 200)
    assert isinstance(caught.value, UpstreamUnavailable)  # last-known figures may stand in
    assert "could not fetch the member's points" in explain(caught.value)


def test_a_schedule_carrying_91001_is_a_failed_call_too(httpserver, client):
    serve(httpserver, SCHEDULE_PATH, dict(SCHEDULE, warnings=[POINTS_NOT_FETCHED]))
    with pytest.raises(PointsNotFetched):
        client.get_schedule(1)


def test_a_real_error_beside_91001_is_the_answer(httpserver, client):
    body = {"errors": [POINTS_NOT_FETCHED, {"code": 8015, "message": "not found"}]}
    serve(httpserver, BALANCE_PATH, body)
    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)
    assert caught.value.code == 8015


# --- missing figures -----------------------------------------------------------------------


def _without(*keys: str, breakup: dict | None = None) -> dict:
    body = {k: v for k, v in BALANCE.items() if k not in keys}
    if breakup is not None:
        body["promisedPointsBreakup"] = breakup
    return body


def test_missing_promised_points_is_delayed_plus_trigger(httpserver, client):
    breakup = {"delayedAccrualPoints": "__30.5__", "externalTriggerBasedPoints": "__12__"}
    body = _without("promisedPoints", breakup=breakup) | {"totalPoints": "__8542.5__"}
    serve(httpserver, BALANCE_PATH, body)
    balance = client.get_balance(1)
    assert balance.promised_points == Decimal("42.5")
    assert balance.total_points == Decimal("8542.5")  # as sent


def test_missing_total_is_main_plus_promised(httpserver, client):
    breakup = {"delayedAccrualPoints": "__30__", "externalTriggerBasedPoints": "__12__"}
    serve(httpserver, BALANCE_PATH, _without("totalPoints", "promisedPoints", breakup=breakup))
    balance = client.get_balance(1)
    assert (balance.promised_points, balance.total_points) == (Decimal(42), Decimal("8542.000"))


def test_figures_that_nothing_fixes_are_none_and_the_answer_is_kept(httpserver, client):
    serve(httpserver, BALANCE_PATH, _without("promisedPoints", "promisedPointsBreakup"))
    balance = client.get_balance(1)
    assert balance.main_points == Decimal("8500.000")
    # total and main are sent: promised is fixed by them (total - main).
    assert balance.promised_points == Decimal("0.000")
    assert (balance.delayed_accrual_points, balance.external_trigger_points) == (None, None)


def test_an_answer_with_no_figures_at_all_is_read_as_not_known(httpserver, client):
    serve(httpserver, BALANCE_PATH, {"entityId": 1, "warnings": []})
    balance = client.get_balance(1)
    assert balance.entity_type == "CUSTOMER"
    assert (balance.total_points, balance.main_points, balance.promised_points) == (
        None,
        None,
        None,
    )


# --- numbers -------------------------------------------------------------------------------


def test_integer_negative_and_quoted_points_are_decimal(httpserver, client):
    body = dict(
        BALANCE,
        totalPoints="350.000",  # quoted, as the ledger API writes points
        mainPoints="__390__",  # an integer
        promisedPoints="__-40__",  # negative
        promisedPointsBreakup={
            "delayedAccrualPoints": "-40.000",
            "externalTriggerBasedPoints": "__0__",
        },
    )
    serve(httpserver, BALANCE_PATH, body)
    balance = client.get_balance(1)
    assert balance.total_points == Decimal("350.000")
    assert balance.main_points == Decimal(390)
    assert balance.promised_points == Decimal(-40)
    assert balance.delayed_accrual_points == Decimal("-40.000")
    assert all(
        isinstance(v, Decimal)
        for v in (balance.total_points, balance.main_points, balance.external_trigger_points)
    )


def test_schedule_points_as_strings_and_negative(httpserver, client):
    entry = {"points": "-40", "redeemableFrom": "2022-04-10", "programId": 1, "pointsType": "x"}
    trigger = {"points": "300.000", "programId": 1, "pointsType": "x"}
    body = {
        "entityId": 1,
        "promisedPointsScheduleList": [entry],
        "triggerBasedPointsList": [trigger],
    }
    serve(httpserver, SCHEDULE_PATH, body)
    schedule = client.get_schedule(1)
    assert schedule.entries[0].points == Decimal(-40)
    assert schedule.triggers[0].points == Decimal("300.000")


@pytest.mark.parametrize("text", ['"NaN"', '"1e400"', '"12,5"', '"ten"'])
def test_quoted_text_that_is_not_a_figure_is_malformed(httpserver, client, text):
    serve(
        httpserver,
        BALANCE_PATH,
        to_json(BALANCE).replace('"mainPoints": 8500.000', f'"mainPoints": {text}'),
    )
    with pytest.raises(MalformedResponse, match="mainPoints"):
        client.get_balance(1)


# --- warnings and errors by code -----------------------------------------------------------


@pytest.mark.parametrize("code", [1053, 8062, 8069, 91002, 91011])
def test_a_warning_code_in_errors_with_data_is_a_warning(httpserver, client, code):
    serve(httpserver, BALANCE_PATH, dict(BALANCE, errors=[{"code": code, "message": "w"}]))
    balance = client.get_balance(1)
    assert balance.main_points == Decimal("8500.000")
    assert [w.code for w in balance.warnings] == [code]


@pytest.mark.parametrize("code", [91009, 91010, 91020, 91021, 91022])
@pytest.mark.parametrize("array", ["errors", "warnings"])
def test_an_error_code_fails_the_call_whichever_array_it_is_in(httpserver, client, code, array):
    serve(httpserver, BALANCE_PATH, dict(BALANCE, **{array: [{"code": code, "message": "e"}]}))
    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)
    assert caught.value.code == code
    assert "does not recognise" not in explain(caught.value)


# --- 4000 / 4001 in any body ---------------------------------------------------------------

DENIED_TEXT = "HttpStatusCode=403 errorMessage=Not authorized. Access is denied! errorCode=4000"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (DENIED_TEXT, "text/plain"),
        ({"errorCode": 4000, "errorMessage": "Not authorized. Access is denied!"}, JSON),
        ({"HttpStatusCode": 403, "errorCode": "4000", "errorMessage": "denied"}, JSON),
    ],
    ids=["documented text", "json fields", "json code as text"],
)
def test_the_authorisation_refusal_is_found_in_whatever_body_carries_it(
    httpserver, client, body, content_type
):
    serve(httpserver, BALANCE_PATH, body, 403, content_type)
    with pytest.raises(AccessDenied) as caught:
        client.get_balance(1)
    assert (caught.value.code, caught.value.status) == (4000, 403)
    words = explain(caught.value)
    assert "access group" in words and "API key's store" in words


def test_the_documented_text_refusal_keeps_its_message(httpserver, client):
    serve(httpserver, BALANCE_PATH, DENIED_TEXT, 403, "text/plain")
    with pytest.raises(AccessDenied) as caught:
        client.get_balance(1)
    assert caught.value.message.endswith("code 4000: Not authorized. Access is denied!")


def test_4001_as_text_is_unavailable_and_retried(httpserver, client):
    text = "HttpStatusCode=503 errorMessage=Authorization status unavailable! errorCode=4001"
    serve(httpserver, BALANCE_PATH, text, 503, "text/plain")
    with pytest.raises(UpstreamUnavailable) as caught:
        client.get_balance(1)
    assert caught.value.code == 4001
    assert len(requests_to(httpserver, BALANCE_PATH)) == 3


def test_4001_in_a_json_field_of_a_200_is_retried(httpserver, client):
    serve(httpserver, BALANCE_PATH, {"errorCode": 4001, "errorMessage": "unavailable"})
    with pytest.raises(UpstreamUnavailable) as caught:
        client.get_balance(1)
    assert caught.value.code == 4001
    assert len(requests_to(httpserver, BALANCE_PATH)) == 3


# --- a CDN in front ------------------------------------------------------------------------

CDN_PAGE = "<!DOCTYPE html><html><head><title>522: Connection timed out</title></head></html>"


@pytest.mark.parametrize("status", [520, 521, 522, 523, 524])
def test_a_cdn_page_is_an_unreachable_upstream_retried_like_502(httpserver, client, status):
    serve(httpserver, BALANCE_PATH, CDN_PAGE, status, "text/html")
    with pytest.raises(UpstreamUnreachable) as caught:
        client.get_balance(1)
    assert (caught.value.status, caught.value.code) == (status, None)
    assert len(requests_to(httpserver, BALANCE_PATH)) == 3
    words = explain(caught.value)
    assert words.startswith("Points Desk could not reach the loyalty system")
    assert f"HTTP {status}" in words


def test_a_cdn_522_without_a_body_is_unreachable_too(httpserver, client):
    serve(httpserver, BALANCE_PATH, "", 522, "text/plain")
    with pytest.raises(UpstreamUnreachable):
        client.get_balance(1)


def test_the_documented_521_with_a_json_body_stays_another_action_running(httpserver, client):
    serve(httpserver, BALANCE_PATH, {"errors": [{"code": 521, "message": "busy"}]}, 521)
    with pytest.raises(UpstreamUnavailable) as caught:
        client.get_balance(1)
    assert not isinstance(caught.value, UpstreamUnreachable)
    assert "Another action is running" in explain(caught.value)


@pytest.mark.parametrize(
    ("status", "text", "content_type"),
    [
        (403, "<!DOCTYPE html><html><title>Attention Required!</title></html>", "text/html"),
        (200, "<html><body>Please wait</body></html>", "text/html"),
        (200, "  <!doctype html><html></html>", JSON),
    ],
    ids=["403 block page", "200 html", "200 html labelled json"],
)
def test_html_where_json_belongs_is_not_an_answer(httpserver, client, status, text, content_type):
    serve(httpserver, BALANCE_PATH, text, status, content_type)
    with pytest.raises(UpstreamUnreachable) as caught:
        client.get_balance(1)
    assert not isinstance(caught.value, AccessDenied)


# --- request rules -------------------------------------------------------------------------


def test_account_id_is_sent_for_a_source_other_than_instore(httpserver):
    serve(httpserver, LOOKUP_PATH, BALANCE)
    member = MemberLookup((Identifier("mobile", MOBILE),), source="WECHAT")
    with fast_client(httpserver.url_for("/"), account_id="wx-9") as client:
        client.get_balance(member)
        client.get_balance(MemberLookup((Identifier("mobile", MOBILE),)))  # INSTORE
        client.get_balance(MemberLookup((Identifier("mobile", MOBILE),), "LINE", "own-1"))
    sent = [request.args.get("accountId") for request in requests_to(httpserver, LOOKUP_PATH)]
    assert sent == ["wx-9", None, "own-1"]


def test_any_number_of_identifiers_go_as_lists_in_the_same_order(httpserver, client):
    serve(httpserver, LOOKUP_PATH, BALANCE)
    member = MemberLookup(
        (
            Identifier("email", "a@b.example"),
            Identifier("mobile", MOBILE),
            Identifier("externalId", "EXT-1"),
        )
    )
    client.get_balance(member)
    (request,) = requests_to(httpserver, LOOKUP_PATH)
    assert request.args["identifierName"] == "email,mobile,externalId"
    assert request.args["identifierValue"] == f"a@b.example,{MOBILE},EXT-1"


def test_a_password_already_hashed_is_sent_as_is(httpserver):
    serve(httpserver, BALANCE_PATH, BALANCE)
    config = {
        "CAPILLARY_BASE_URL": httpserver.url_for("/"),
        "CAPILLARY_USERNAME": "store123",
        "CAPILLARY_PASSWORD_MD5": "BDC87B9C894DA5168059E00EBFFB9077",
    }
    with CapillaryClient.from_config(config) as client:
        client.get_balance(1)
    (request,) = requests_to(httpserver, BALANCE_PATH)
    # The docs' worked example header. Its md5 is not md5("Pass123"): the docs' example
    # password was typed already hashed, which is what this setting is for.
    assert request.headers["Authorization"] == (
        "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="
    )


def test_programs_are_read_bare_or_wrapped(httpserver, client):
    programs = [
        {"programId": 2199, "programName": "Gold", "tierBased": True},
        {"programId": "1933", "programName": "Partner"},
    ]
    serve(httpserver, "/v2/organization/programs", programs)
    assert client.get_programs() == (
        Program(2199, "Gold", True),
        Program(1933, "Partner", None),
    )
    httpserver.clear()
    serve(httpserver, "/v2/organization/programs", {"data": programs, "warnings": []})
    assert [p.program_id for p in client.get_programs()] == [2199, 1933]


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "zone"),
    [
        ("https://apac.api.capillarytech.com/", "Asia/Kolkata"),
        ("https://apac2.api.capillarytech.com", "Asia/Kolkata"),
        ("https://sea.intouch.capillarytech.com/", "Asia/Kolkata"),
        ("https://eu.api.capillarytech.com/", "UTC"),
        ("https://us.api.capillarytech.com/", None),
        ("http://127.0.0.1:8080/", None),
    ],
)
def test_the_cluster_zone_follows_the_documented_host(url, zone):
    assert cluster_zone_for(url)[0] == zone


def test_an_unset_cluster_zone_is_taken_from_the_host_and_said_at_start(sandbox, caplog):
    config = sandbox_config(sandbox) | {
        "CAPILLARY_BASE_URL": "https://apac.api.capillarytech.com/",
        "CAPILLARY_CLUSTER_TIMEZONE": None,
    }
    with caplog.at_level(logging.INFO, logger="app"):
        app = create_app(config)
    assert app.config["CAPILLARY_CLUSTER_TIMEZONE"] == "Asia/Kolkata"
    assert app.extensions["capillary"].cluster_timezone == ZoneInfo("Asia/Kolkata")
    lines = [r.getMessage() for r in caplog.records if "cluster time zone" in r.getMessage()]
    assert len(lines) == 1
    assert "Asia/Kolkata" in lines[0] and "India" in lines[0]


def test_a_configured_cluster_zone_wins_and_is_said(sandbox, caplog):
    config = sandbox_config(sandbox) | {
        "CAPILLARY_BASE_URL": "https://apac.api.capillarytech.com/",
        "CAPILLARY_CLUSTER_TIMEZONE": "UTC",
    }
    with caplog.at_level(logging.INFO, logger="app"):
        app = create_app(config)
    assert app.extensions["capillary"].cluster_timezone == ZoneInfo("UTC")
    lines = [r.getMessage() for r in caplog.records if "cluster time zone" in r.getMessage()]
    assert lines == ["Capillary cluster time zone: UTC (CAPILLARY_CLUSTER_TIMEZONE)"]


def test_a_source_other_than_instore_without_an_account_id_is_refused_at_start(sandbox):
    with pytest.raises(ConfigError, match="CAPILLARY_ACCOUNT_ID"):
        create_app(sandbox_config(sandbox) | {"CAPILLARY_SOURCE": "wechat"})
    app = create_app(
        sandbox_config(sandbox) | {"CAPILLARY_SOURCE": "wechat", "CAPILLARY_ACCOUNT_ID": "wx"}
    )
    assert (app.config["CAPILLARY_SOURCE"], app.extensions["capillary"].account_id) == (
        "WECHAT",
        "wx",
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"CAPILLARY_PASSWORD_MD5": "not-an-md5"}, "CAPILLARY_PASSWORD_MD5"),
        ({"CAPILLARY_PASSWORD_MD5": "bdc87b9c894da5168059e00ebffb9077"}, "set only one"),
        ({"CAPILLARY_DUAL_ELIGIBILITY": "perhaps"}, "CAPILLARY_DUAL_ELIGIBILITY"),
    ],
)
def test_bad_request_settings_are_refused_at_start(sandbox, overrides, named):
    with pytest.raises(ConfigError, match=named):
        create_app(sandbox_config(sandbox) | overrides)
