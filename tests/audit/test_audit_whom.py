"""Reports, exports and filtered audit page views are audited with whom they were about: the
member id, the identifier's keyed hash and the other filters."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import identifier_hash
from app.audit.models import AuditRecord
from app.extensions import db
from tests.conftest import ADMIN, add_staff, sign_in

MANAGER = "manager.meg"


def _latest(app) -> AuditRecord | None:
    with app.app_context():
        return db.session.scalar(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))


def _manager(app):
    with app.app_context():
        add_staff(MANAGER, "manager")
    return sign_in(app.test_client(), MANAGER)


def _digest(app, value: str) -> str:
    with app.app_context():
        return identifier_hash(value)


def test_a_report_by_identifier_records_the_identifier_hash(app):
    manager = _manager(app)
    digest = _digest(app, "919800000001")
    response = manager.post("/admin/audit/member", data={"identifier": "919800000001"})
    assert manager.get(response.headers["Location"]).status_code == 200
    record = _latest(app)
    assert (record.kind, record.staff_username) == ("report", MANAGER)
    assert record.identifier_hash == digest


def test_an_export_records_whom_and_its_filters(app):
    manager = _manager(app)
    digest = _digest(app, "EXT-1")
    response = manager.get(
        "/admin/audit.csv",
        query_string={"identifier_hash": digest, "staff": ADMIN, "date_from": "2026-01-01"},
    )
    assert response.status_code == 200
    record = _latest(app)
    assert record.kind == "export"
    assert record.identifier_hash == digest
    assert record.filters == f"date_from=2026-01-01&staff={ADMIN}"


def test_a_filtered_audit_page_view_is_audited(app):
    manager = _manager(app)
    assert (
        manager.get("/admin/audit", query_string={"member_id": "42", "kind": "lookup"}).status_code
        == 200
    )
    record = _latest(app)
    assert (record.kind, record.staff_username, record.member_id) == ("view", MANAGER, 42)
    assert record.filters == "kind=lookup"
    assert record.outcome == "not_found"  # nothing matched


def test_a_view_filtered_by_identifier_is_audited_with_its_hash(app):
    manager = _manager(app)
    digest = _digest(app, "919800000001")
    query = {"identifier_hash": digest, "outcome": "found"}
    assert manager.get("/admin/audit", query_string=query).status_code == 200
    record = _latest(app)
    assert (record.kind, record.identifier_hash, record.filters) == (
        "view",
        digest,
        "outcome=found",
    )


def test_a_view_filtered_by_staff_and_kind_is_audited_too(app):
    manager = _manager(app)
    query = {"staff": ADMIN, "kind": "export", "date_from": "2026-01-01"}
    assert manager.get("/admin/audit", query_string=query).status_code == 200
    record = _latest(app)
    assert (record.kind, record.member_id, record.identifier_hash) == ("view", None, None)
    assert record.filters == f"date_from=2026-01-01&kind=export&staff={ADMIN}"


def test_an_unfiltered_audit_page_view_is_not_a_question_about_anyone(app):
    manager = _manager(app)
    assert manager.get("/admin/audit").status_code == 200
    assert manager.get("/admin/audit", query_string={"page": "1"}).status_code == 200
    assert _latest(app) is None
