"""Self-service: my own password, and my display time zone used by every time on every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from app.audit.models import AuditRecord
from app.auth.models import StaffEvent
from app.extensions import db
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, normalize_spaces, sign_in, soup

NEW_PASSWORD = "another long passphrase"


def _change(client, current=TEST_PASSWORD, new=NEW_PASSWORD, repeat=None):
    return client.post(
        "/account/password",
        data={"current": current, "password": new, "repeat": new if repeat is None else repeat},
    )


def test_a_wrong_current_password_changes_nothing(app, client):
    response = _change(client, current="not my password at all")
    assert response.status_code == 400
    error = soup(response).select_one("#current-error").get_text(strip=True)
    assert error == "That is not your current password."
    assert (
        app.test_client()
        .post("/login", data={"username": AGENT, "password": TEST_PASSWORD})
        .status_code
        == 302
    )


def test_the_new_password_follows_the_cli_rules(client):
    short = _change(client, new="too short")
    assert "At least 12 characters." in soup(short).select_one("#password-error").get_text()
    mismatch = _change(client, repeat="something else entirely")
    assert "not the same" in soup(mismatch).select_one("#repeat-error").get_text()


def test_changing_my_password_keeps_me_here_and_ends_my_other_sessions(app, client):
    elsewhere = sign_in(app.test_client(), AGENT)
    response = _change(client)
    assert response.status_code == 303
    page = soup(client.get("/account"))
    assert "Your password is changed" in page.select_one(".flash").get_text()
    assert elsewhere.get("/").status_code == 302
    assert sign_in(app.test_client(), AGENT, NEW_PASSWORD)
    with app.app_context():
        [event] = db.session.scalars(select(StaffEvent)).all()
        assert (event.actor, event.action, event.target) == (AGENT, "change password", AGENT)


def test_an_unknown_zone_is_refused(client):
    response = client.post("/account/timezone", data={"timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert soup(response).select_one("#timezone-error")


def _audit_time(admin_client):
    page = soup(admin_client.get("/admin/audit", query_string={"staff": AGENT}))
    return normalize_spaces(page.select_one("tr.audit-row .audit-at").get_text())


def test_my_zone_is_used_by_every_time_on_every_page(app, admin_client):
    moment = datetime(2026, 6, 1, 20, 30, tzinfo=UTC)
    with app.app_context():
        db.session.add(
            AuditRecord(
                at=moment,
                staff_username=AGENT,
                identifier_type="mobile",
                member_id=700000001,
                program_scope="all",
                outcome="found",
                kind="lookup",
            )
        )
        db.session.commit()
    assert _audit_time(admin_client) == "1 Jun 2026, 20:30:00 (UTC)"

    response = admin_client.post("/account/timezone", data={"timezone": "Asia/Kolkata"})
    assert response.status_code == 303
    assert _audit_time(admin_client) == "2 Jun 2026, 02:00:00 (IST, UTC+05:30)"
    account = soup(admin_client.get("/account"))
    assert account.select_one("#timezone option[selected]")["value"] == "Asia/Kolkata"
    assert account.select_one("#now-in-zone").get_text().endswith("(IST, UTC+05:30)")
    staff = soup(admin_client.get("/admin/staff"))
    assert staff.select_one("td.staff-created").get_text().endswith("(IST, UTC+05:30)")
    # The member page's "as of" too.
    member = soup(admin_client.get("/members/700000001"))
    assert member.select_one("#as-of").get_text().endswith("(IST, UTC+05:30)")
    # Dates typed into the audit filters mean days in my zone: 2 June in Kolkata.
    filtered = soup(
        admin_client.get("/admin/audit", query_string={"date_from": "2026-06-02", "staff": AGENT})
    )
    assert len(filtered.select("tr.audit-row")) == 1
    filtered = soup(
        admin_client.get("/admin/audit", query_string={"date_to": "2026-06-01", "staff": AGENT})
    )
    assert not filtered.select("tr.audit-row")

    # Back to the desk default; someone else's choice is their own.
    admin_client.post("/account/timezone", data={"timezone": ""})
    assert _audit_time(admin_client) == "1 Jun 2026, 20:30:00 (UTC)"
    with app.app_context():
        actions = db.session.scalars(select(StaffEvent.detail)).all()
    assert actions == ["Asia/Kolkata", "desk default"]


def test_without_a_choice_the_desk_zone_applies(make_app):
    app = make_app(DISPLAY_TIMEZONE="America/New_York")
    client = sign_in(app.test_client(), ADMIN)
    account = soup(client.get("/account"))
    assert account.select_one("#timezone option[selected]").get_text() == (
        "The desk's default (America/New_York)"
    )
    assert "UTC-0" in account.select_one("#now-in-zone").get_text()


def test_one_time_zone_rule_stated_and_labelled(app, admin_client, upstream):
    """Points dates in the program's zone, staff activity in the viewer's: each says which."""
    admin_client.post("/account/timezone", data={"timezone": "America/New_York"})
    rule = normalize_spaces(soup(admin_client.get("/account")).select_one("#zone-rule").get_text())
    assert "Your time zone (America/New_York) is used for every moment of staff activity" in rule
    assert "The loyalty program's time zone (Asia/Kolkata) is used for the member's points" in rule
    member = soup(admin_client.get("/members/700000001"))
    # The conversion date keeps the program's zone; "as of" is the viewer's, and says so.
    assert member.select_one("#answer-next .conversion-zone").get_text() == "(IST, UTC+05:30)"
    assert normalize_spaces(member.select_one("#as-of").find_previous("dt").get_text()) == (
        "As of (your time zone)"
    )
    assert re.search(r"\(E[SD]T, UTC-0[45]:00\)", member.select_one("#as-of").get_text())
    labels = {
        "/admin/audit": "#audit-zone",
        "/admin/audit/member?member_id=700000001": "#report-zone",
        "/admin/staff": "#staff-zone",
        "/admin/trail": "#trail-zone",
        "/": "#recent-zone",
    }
    for path, selector in labels.items():
        label = soup(admin_client.get(path)).select_one(selector)
        assert label is not None, path
        assert "America/New_York" in label.get_text(), path
