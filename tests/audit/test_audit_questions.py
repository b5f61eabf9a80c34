"""The audit trail answers its questions: by member (typed identifier -> keyed hash, the
identifier itself never stored or logged), by reason, the printable "who looked at this
member" report, and a CSV export no spreadsheet can turn into formulas."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.audit import identifier_hash
from app.audit.models import AuditRecord
from app.config_rules import ConfigError
from app.extensions import db
from app.sandbox import data as demo
from tests.conftest import ADMIN, AGENT, add_staff, normalize_spaces, sign_in, soup

REASONS = ["Member called", "At the till", "Complaint", "Fraud check"]
MANAGER = "manager.meg"
MOBILE_DIGITS = "919800000001"


@pytest.fixture
def desk(make_app):
    """An app that asks for a reason, with a manager besides the agent and admin."""
    app = make_app(LOOKUP_REASONS=REASONS)
    with app.app_context():
        add_staff(MANAGER, "manager")
    return app


def _lookup(client, identifier="+91 98000-00001", **fields):
    form = {"identifier_type": "mobile", "identifier": identifier, "program": "all"}
    form.update(fields)
    return client.post("/lookup", data=form)


def _records(app):
    with app.app_context():
        rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        db.session.expunge_all()
        return rows


def test_the_lookup_form_asks_for_a_reason_when_the_desk_lists_them(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    options = soup(agent.get("/")).select("form.lookup-form select#reason option")
    assert [o.get_text() for o in options] == ["Choose a reason", *REASONS]
    refused = _lookup(agent)
    assert refused.status_code == 400
    error = soup(refused).select_one("#reason-error").get_text(strip=True)
    assert error == "Choose why you are looking this member up."
    assert upstream.request_log() == []  # nothing was looked up without a reason

    response = _lookup(agent, reason="Complaint")
    assert response.status_code == 302
    # Switching program on the member page is the same lookup, for the same reason.
    agent.get(response.location)
    agent.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}", query_string={"program": "2199"})
    rows = [(r.outcome, r.reason) for r in _records(desk)]
    assert rows == [("refused", None), ("found", "Complaint"), ("found", "Complaint")]


def test_no_reasons_configured_means_no_question(app, client, upstream):
    assert not soup(client.get("/")).select("select#reason")
    assert _lookup(client).status_code == 302
    assert [r.reason for r in _records(app)] == [None]


def test_a_reason_outside_the_list_is_refused(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    assert _lookup(agent, reason="Curiosity").status_code == 400


@pytest.mark.parametrize("bad", ['"Member called"', "[1, 2]", "{not json"])
def test_a_bad_reasons_setting_refuses_to_start(make_app, bad):
    with pytest.raises(ConfigError, match="LOOKUP_REASONS"):
        make_app(LOOKUP_REASONS=bad)


def test_member_search_by_keyed_hash_with_no_identifier_in_the_database_or_logs(
    desk, upstream, caplog
):
    caplog.set_level(logging.DEBUG)
    agent = sign_in(desk.test_client(), AGENT)
    _lookup(agent, reason="Member called")
    _lookup(agent, identifier="919800000002", reason="At the till")  # someone else
    manager = sign_in(desk.test_client(), MANAGER)

    # Typed in another spelling, posted, and only its hash comes back in the link.
    response = manager.post("/admin/audit", data={"identifier": "919800000001"})
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    with desk.app_context():
        assert query == {"identifier_hash": [identifier_hash(MOBILE_DIGITS)]}
    page = soup(manager.get(response.headers["Location"]))
    rows = page.select("tr.audit-row")
    assert [
        (r.select_one(".audit-staff").text, r.select_one(".audit-reason").text) for r in rows
    ] == [(AGENT, "Member called")]

    # The database file (and its write-ahead log) and every log line hold no identifier.
    db_path = Path(desk.config["DATABASE_URL"].removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for spelling in (MOBILE_DIGITS, "9800000001", "98000-00001", "919800000002"):
        assert spelling.encode() not in stored
        assert spelling not in caplog.text
    assert caplog.records  # the logs were captured, at DEBUG


def test_the_who_looked_at_this_member_report(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    _lookup(agent, reason="Member called")
    _lookup(agent, reason="Complaint")
    admin = sign_in(desk.test_client(), ADMIN)
    _lookup(admin, identifier="919800000001", reason="Fraud check")
    _lookup(agent, identifier="919800000002", reason="At the till")  # another member
    manager = sign_in(desk.test_client(), MANAGER)

    response = manager.post("/admin/audit/member", data={"identifier": "+91 98000 00001"})
    assert response.status_code == 303
    assert "98000" not in response.headers["Location"]
    page = soup(manager.get(response.headers["Location"]))
    report = page.select_one("#member-report")
    assert normalize_spaces(report.select_one("#report-count").get_text()) == "3"
    summary = [
        (r.select_one(".summary-staff").text, r.select_one(".summary-count").text)
        for r in report.select("tr.summary-row")
    ]
    assert summary == [(AGENT, "2"), (ADMIN, "1")]
    reasons = [r.select_one(".report-reason").text for r in report.select("tr.report-row")]
    assert reasons == ["Member called", "Complaint", "Fraud check"]
    assert normalize_spaces(report.select_one("#report-made-at").get_text()).endswith(MANAGER)
    # Printable: the form is marked to stay off the printed page, and a print button is wired.
    assert page.select_one("form.report-form").find_parent(class_="no-print")
    assert report.select_one("button[data-print]")

    # By member id too, linked from each audit row; and the report itself is in the trail.
    audit = soup(manager.get("/admin/audit", query_string={"kind": "lookup", "staff": ADMIN}))
    link = audit.select_one("tr.audit-row .audit-member-id a")["href"]
    assert link == "/admin/audit/member?member_id=700000001"
    by_id = soup(manager.get(link))
    assert normalize_spaces(by_id.select_one("#report-count").get_text()) == "3"
    kinds = [(r.kind, r.staff_username) for r in _records(desk) if r.kind == "report"]
    assert kinds == [("report", MANAGER), ("report", MANAGER)]


@pytest.mark.parametrize(
    "typed", ["98000 00001", "09800000001", "9800000001", "0091 98000 00001", "+91 98000-00001"]
)
def test_the_report_and_the_filter_read_identifiers_as_the_lookup_form_does(desk, upstream, typed):
    """Any spelling the lookup form finds the member by finds their lookups, by any kind."""
    member = demo.MEMBER_MULTI_PROGRAM
    agent = sign_in(desk.test_client(), AGENT)
    _lookup(agent, reason="Member called")  # by mobile
    auto = {"identifier_type": "auto", "reason": "Complaint"}
    _lookup(agent, identifier="card-1001", **auto)  # by card, typed in lower case
    _lookup(agent, identifier="Asha.Rao@example.com", **auto)  # by email
    assert agent.get(f"/members/{member}").status_code == 200  # by the member page's link
    _lookup(agent, identifier="919800000002", reason="At the till")  # another member
    manager = sign_in(desk.test_client(), MANAGER)

    response = manager.post("/admin/audit/member", data={"identifier": typed})
    assert response.status_code == 303
    assert "98000" not in response.headers["Location"]
    report = soup(manager.get(response.headers["Location"])).select_one("#member-report")
    assert normalize_spaces(report.select_one("#report-count").get_text()) == "4"
    assert report.select_one("#report-empty") is None
    assert f"member {member}" in normalize_spaces(report.select_one("#report-title").get_text())
    # Printed, the page says whose report it is at the top.
    heading = soup(manager.get(response.headers["Location"])).select_one("h1").get_text()
    assert normalize_spaces(heading) == f"Who looked at member {member}"
    kinds = [k.get_text() for k in report.select("#report-kinds .report-kind")]
    assert sorted(kinds) == [
        "Capillary customer id: 1",
        "card number: 1",
        "email address: 1",
        "mobile number: 1",
    ]
    used = [r.select_one(".report-identifier-type").text for r in report.select("tr.report-row")]
    assert used == ["mobile number", "card number", "email address", "Capillary customer id"]

    # The audit page's identifier filter reads it the same way.
    response = manager.post("/admin/audit", data={"identifier": typed, "kind": "lookup"})
    rows = soup(manager.get(response.headers["Location"])).select("tr.audit-row")
    assert [r.select_one(".audit-member-id").get_text() for r in rows] == [str(member)] * 4


def test_the_report_needs_something_to_report_on(desk):
    manager = sign_in(desk.test_client(), MANAGER)
    response = manager.post("/admin/audit/member", data={})
    assert response.status_code == 400
    assert soup(response).select_one("#member_id-error")
    assert manager.get("/admin/audit/member", query_string={"identifier": "x"}).status_code == 400


def test_filter_by_reason(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    _lookup(agent, reason="Complaint")
    _lookup(agent, reason="Fraud check")
    manager = sign_in(desk.test_client(), MANAGER)

    def reasons(value):
        page = soup(manager.get("/admin/audit", query_string={"reason": value, "kind": "lookup"}))
        return [r.select_one(".audit-reason").text for r in page.select("tr.audit-row")]

    assert reasons("Complaint") == ["Complaint"]
    assert reasons("Fraud check") == ["Fraud check"]
    assert reasons("") == ["Fraud check", "Complaint"]
    with desk.app_context():
        db.session.add(
            AuditRecord(
                at=datetime(2026, 1, 1, tzinfo=UTC),
                staff_username=AGENT,
                identifier_type="customer_id",
                program_scope="all",
                outcome="found",
                kind="lookup",
            )
        )
        db.session.commit()
    assert reasons("-") == [""]


def _csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", ";", "|"])
def test_csv_cells_starting_with_a_formula_character_are_escaped(desk, prefix):
    with desk.app_context():
        db.session.add(
            AuditRecord(
                at=datetime(2026, 1, 1, tzinfo=UTC),
                staff_username=f'{prefix}HYPERLINK("http://evil.example")',
                identifier_type="mobile",
                program_scope=f"{prefix}1+1",
                outcome="found",
                kind="lookup",
                reason=f"{prefix}cmd|' /C calc'!A0",
                member_id=-5,
            )
        )
        db.session.commit()
    manager = sign_in(desk.test_client(), MANAGER)
    [row] = [r for r in _csv(manager.get("/admin/audit.csv")) if r["kind"] == "lookup"]
    assert row["staff_username"] == f'\'{prefix}HYPERLINK("http://evil.example")'
    assert row["program_scope"] == f"'{prefix}1+1"
    assert row["reason"] == f"'{prefix}cmd|' /C calc'!A0"
    assert row["member_id"] == "-5"  # a number stays a number
    assert row["outcome"] == "found"  # nothing else is touched


def test_a_proxy_user_name_cannot_become_a_formula_in_the_export(make_app, upstream):
    app = make_app(
        AUTH_MODE="proxy",
        AUTH_PROXY_TRUSTED=["10.0.0.5"],
        AUTH_PROXY_MANAGER_GROUP="managers",
    )
    env = {"REMOTE_ADDR": "10.0.0.5"}
    client = app.test_client()
    evil = {"X-Forwarded-User": "=1+2", "X-Forwarded-Groups": "staff"}
    client.post(
        "/lookup",
        data={"identifier_type": "mobile", "identifier": MOBILE_DIGITS, "program": "all"},
        headers=evil,
        environ_base=env,
    )
    manager = {"X-Forwarded-User": "meg", "X-Forwarded-Groups": "managers"}
    rows = _csv(client.get("/admin/audit.csv", headers=manager, environ_base=env))
    assert [r["staff_username"] for r in rows if r["kind"] == "lookup"] == ["'=1+2"]
