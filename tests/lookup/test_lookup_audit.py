"""Every lookup leaves one audit record, before the member is shown; limits per staff member."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.audit import identifier_hash
from app.audit.models import AuditRecord
from app.extensions import db
from app.sandbox import data as demo
from tests.conftest import AGENT, soup

MOBILE = "919800000001"


def records(app) -> list[AuditRecord]:
    with app.app_context():
        rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        db.session.expunge_all()
        return list(rows)


def lookup(client, **fields):
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "all"}
    form.update(fields)
    return client.post("/lookup", data=form)


def test_a_lookup_and_its_page_write_one_record_without_the_identifier(app, client, upstream):
    upstream.configure(latency=0.05)
    response = lookup(client, identifier="+91 98000 00001")
    # The lookup redirects to the member page (a failed lookup would answer the form instead).
    assert response.status_code == 302
    assert client.get(response.location).status_code == 200
    (record,) = records(app)
    assert record.kind == "lookup" and record.staff_username == AGENT
    assert record.identifier_type == "mobile"
    with app.app_context():
        assert record.identifier_hash == identifier_hash(MOBILE)
    assert record.member_id == demo.MEMBER_MULTI_PROGRAM
    assert record.program_scope == "all" and record.outcome == "found"
    assert record.upstream_ms is not None and record.upstream_ms >= 50  # one round, in ms
    assert record.at.tzinfo is not None
    stored = " ".join(str(getattr(record, column)) for column in AuditRecord.__table__.c.keys())
    assert MOBILE not in stored and "98000" not in stored


def test_not_found_and_upstream_errors_are_recorded(app, client, upstream):
    lookup(client, identifier="910000000000")
    upstream.configure(fault="unavailable")
    lookup(client)
    outcomes = [(r.outcome, r.member_id) for r in records(app)]
    assert outcomes == [("not_found", None), ("upstream_error", None)]


def test_a_deep_link_opened_directly_is_a_lookup_by_id(app, client, upstream):
    client.get(f"/members/{demo.MEMBER_DOC_BALANCE}")
    client.get(f"/members/{demo.MEMBER_DOC_BALANCE}")  # from cache, still a view of the member
    rows = records(app)
    assert [(r.identifier_type, r.member_id, r.outcome) for r in rows] == [
        ("customer_id", demo.MEMBER_DOC_BALANCE, "found")
    ] * 2
    assert rows[1].upstream_ms == 0


def test_refused_input_is_recorded_without_an_identifier(app, client, upstream):
    assert lookup(client, identifier="not a phone").status_code == 400
    (record,) = records(app)
    assert record.outcome == "refused" and record.identifier_hash is None
    lookup(client, identifier_type="<script>", identifier="x")
    assert records(app)[-1].identifier_type == "invalid"


@pytest.fixture
def broken_audit(app):
    with app.app_context():
        db.session.execute(text("DROP TABLE audit_record"))
        db.session.commit()


def test_a_lookup_that_cannot_be_recorded_is_refused(client, upstream, broken_audit):
    response = lookup(client, identifier="+91 98000 00001")
    assert response.status_code == 503
    page = soup(response)
    assert "could not be written to the audit trail" in page.select_one("#not-recorded").get_text()
    assert page.select_one("#tile-available") is None
    assert page.select_one("#identifier")["value"] == "+91 98000 00001"  # ready to try again
    response = client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}")
    assert response.status_code == 503
    assert soup(response).select_one("#member-id") is None


def test_lookups_are_rate_limited_per_staff_member(make_client, upstream):
    client = make_client(LOOKUP_RATE_LIMIT="2 per minute")
    assert [lookup(client).status_code for _ in range(3)] == [302, 302, 429]
    page = soup(lookup(client))
    assert page.select_one("h1") is not None and "Traceback" not in page.get_text()


def test_member_pages_are_rate_limited_too(make_client, upstream):
    client = make_client(MEMBER_PAGE_RATE_LIMIT="3 per minute")
    statuses = [client.get(f"/members/{demo.MEMBER_DOC_BALANCE}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
