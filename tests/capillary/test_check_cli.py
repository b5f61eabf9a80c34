"""`flask capillary check --member ID` against the sandbox and against a stand-in answering the
wrong shapes, both over real HTTP: what it says, its exit status, its one audit record, and
that it never prints the member's figures or identifiers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from app.audit.models import AuditRecord
from app.extensions import db
from tests.conftest import FROZEN_AT
from tests.support.capillary_support import to_json

MEMBER = 700000001
MOBILE = "919800000001"
# Numbers the output may hold: statuses, latencies, codes, program ids, zones, counts.
ALLOWED_NUMBERS = [
    r"HTTP \d{3}",
    r"\d+ ms",
    r"code \d+",
    r"\(\d+\)",
    r"program \d+",
    r"v2/",
    r"UTC[+-]\d\d:\d\d",
    r"\d+ mismatch",
    r"X-RateLimit-[\w-]+: \d+",
]


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["capillary", "check", *args])


def audit_rows(app) -> list[AuditRecord]:
    with app.app_context():
        return list(db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)))


def numbers_left(output: str, base_url: str) -> list[str]:
    """Digits the output holds outside what it may say: would be figures or identifiers."""
    text = output.replace(base_url, "")
    for pattern in ALLOWED_NUMBERS:
        text = re.sub(pattern, "", text)
    return re.findall(r"\d+", text)


# --- against the sandbox --------------------------------------------------------------------


def test_the_sandbox_answers_as_the_desk_expects(make_app, upstream):
    app = make_app()
    result = run(app, "--member", str(MEMBER))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "Everything Points Desk uses answered as it expects."
    assert "MISMATCH" not in result.output
    assert "  ok        auth mode basic accepted: the loyalty system answered with data" in lines
    assert any(line.startswith("Balance (by id, program 2199): HTTP 200 in ") for line in lines)
    assert any(
        line.startswith("Program list (v2/organization/programs): HTTP 200") for line in lines
    )
    for name, pid in (("Gold Club", 2199), ("Partner Rewards", 1933), ("Fuel Rewards", 890)):
        assert f"  ok        program {name} ({pid}) is one of the org's programs" in lines
    assert "  ok        cluster zone: the answers' ISO dates carry UTC+05:30" in lines
    assert "  note      no answer carried rate-limit headers (the docs name none)" in lines
    # Nothing of the member: not their id, not a figure.
    assert str(MEMBER) not in result.output
    assert numbers_left(result.output, upstream.url) == []
    # One audit record that the check ran, and nothing else.
    (row,) = audit_rows(app)
    assert (row.kind, row.outcome, row.member_id, row.staff_username) == (
        "check",
        "found",
        None,
        "(command line)",
    )
    assert row.record_hash is not None  # chained like every record


def test_a_lookup_by_mobile_checks_both_forms_and_prints_neither_identifier(make_app, upstream):
    app = make_app()
    result = run(app, "--member", f"mobile:{MOBILE}")

    assert result.exit_code == 0, result.output
    assert "Balance (lookup, program 2199): HTTP 200" in result.output
    assert "Promised-points schedule (by id, program 2199): HTTP 200" in result.output
    assert MOBILE not in result.output and str(MEMBER) not in result.output
    assert "Lookups send source INSTORE only" in result.output
    assert numbers_left(result.output, upstream.url) == []
    kinds = [(e.kind, "identifierName" in e.query) for e in upstream.request_log()]
    assert ("balance", True) in kinds and ("balance", False) in kinds


def test_a_member_the_org_does_not_have_is_a_mismatch(make_app, upstream):
    app = make_app()
    result = run(app, "--member", "123456789")
    assert result.exit_code == 1
    assert "MISMATCH  failed (code 8015, MemberNotFound)" in result.output
    assert "123456789" not in result.output
    assert [row.outcome for row in audit_rows(app)] == ["upstream_error"]


@pytest.mark.parametrize("member", ["phone:123", "mobile:", "", "7000 0001"])
def test_a_member_that_is_neither_an_id_nor_name_value_is_refused_unrecorded(
    make_app, upstream, member
):
    app = make_app()
    result = run(app, "--member", member)
    assert result.exit_code == 2
    assert "--member" in result.output
    assert upstream.request_log() == []
    assert audit_rows(app) == []


# --- against a stand-in answering the wrong shapes ------------------------------------------


def json_answer(body: object, status: int = 200, **headers: str) -> Response:
    return Response(to_json(body), status=status, content_type="application/json", headers=headers)


def wrong_shapes(request: Request) -> Response:
    """91001 with zeros on the default program's balance, an org without program 1933,
    ISO dates at +05:30 while the desk reads legacy dates in UTC, rate-limit headers."""
    limits = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "97"}
    if request.path.endswith("/organization/programs"):
        return json_answer({"data": [{"programId": 2199, "programName": "Gold"}]}, **limits)
    if request.path.endswith("/promisedPointsSchedule"):
        day = (FROZEN_AT + timedelta(days=3)).date()
        entry = {
            "points": "__45.000__",
            "redeemableFromISO": f"{day}T00:00:00+05:30",
            "programId": 2199,
            "pointsType": "bill_regular",
        }
        body = {"entityId": MEMBER, "promisedPointsScheduleList": [entry], "warnings": []}
        return json_answer(body, **limits)
    balance = {
        "entityId": MEMBER,
        "entityType": "CUSTOMER",
        "totalPoints": "__640.000__",
        "mainPoints": "__640.000__",
        "warnings": [],
    }
    if request.args.get("programId") == "2199":
        balance.update(totalPoints="__0.000__", mainPoints="__0.000__")
        balance["warnings"] = [{"code": 91001, "message": f"Failed for {MOBILE}"}]
    if request.args.get("programId") == "1933":
        return json_answer({"errors": [{"code": 1213, "message": "Invalid programId"}]}, 400)
    return json_answer(balance, **limits)


@pytest.fixture
def wrong(httpserver: HTTPServer, make_app):
    httpserver.expect_request(re.compile(".*")).respond_with_handler(wrong_shapes)
    return make_app(
        CAPILLARY_BASE_URL=httpserver.url_for("/"),
        CAPILLARY_CLUSTER_TIMEZONE="UTC",
        CAPILLARY_PROGRAMS={2199: "Gold Club", 1933: "Partner Rewards"},
        CAPILLARY_RETRIES=0,
    )


def test_wrong_shapes_are_each_named_and_the_check_fails(wrong, httpserver):
    result = run(wrong, "--member", str(MEMBER))

    assert result.exit_code == 1
    out = result.output
    lines = out.splitlines()
    assert "  MISMATCH  failed (code 91001, PointsNotFetched): " in out
    assert "  MISMATCH  program Partner Rewards (1933) is not one of the org's programs" in lines
    assert "  MISMATCH  failed (code 1213, InvalidProgram): " in out
    assert any(
        line.startswith("  MISMATCH  cluster zone: the answers' ISO dates carry UTC+05:30")
        for line in lines
    )
    assert (
        "  note      rate-limit headers: X-RateLimit-Limit: 100, X-RateLimit-Remaining: 97" in lines
    )
    # A balance without promisedPoints is a documented shape the desk reads: noted, not failed.
    assert any("balance shape: figures not known" in line for line in lines)
    assert lines[-1].endswith("mismatch(es): fix these before going live.")
    # Neither the figures nor the identifier the upstream's message echoed.
    assert "640" not in out and MOBILE not in out and str(MEMBER) not in out
    assert numbers_left(out, httpserver.url_for("/")) == []
    (row,) = audit_rows(wrong)
    assert (row.kind, row.outcome) == ("check", "upstream_error")


def test_refused_credentials_say_the_auth_mode_was_not_accepted(httpserver, make_app):
    denied = {"errors": [{"code": 401, "message": "Unauthorized"}]}
    httpserver.expect_request(re.compile(".*")).respond_with_json(denied, status=401)
    app = make_app(CAPILLARY_BASE_URL=httpserver.url_for("/"), CAPILLARY_RETRIES=0)
    result = run(app, "--member", str(MEMBER))
    assert result.exit_code == 1
    assert "  MISMATCH  auth mode basic: refused (see above)" in result.output.splitlines()
    assert "accepted" not in result.output
