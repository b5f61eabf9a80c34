"""Recent lookups and the ticket summary, through the Flask test client."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date

from app.audit.models import AuditRecord
from app.extensions import db
from app.lookup.recent import KEEP
from tests.conftest import ADMIN, frozen_today, normalize_spaces, sign_in, soup
from tests.support.lookup_helpers import MERGED_WARNING, warnings_of

BY_MOBILE = {"identifier_type": "mobile", "identifier": "919800000001", "program": "all"}


def recent_links(response) -> list[tuple[str, str]]:
    return [
        (a["href"], normalize_spaces(a.get_text()))
        for a in soup(response).select("#recent .recent-list a")
    ]


def test_empty_list_says_what_it_is_for(client, upstream):
    page = soup(client.get("/"))
    assert page.select_one("#recent-title").get_text() == "Your recent lookups"
    assert page.select_one("#recent-empty") is not None


def test_opened_member_is_listed_with_its_deep_link_and_no_identifier(client, upstream):
    response = client.post("/lookup", data=BY_MOBILE)
    assert response.status_code == 302
    client.get(response.headers["Location"])
    home = client.get("/")
    assert recent_links(home) == [("/members/700000001?program=all", "Member 700000001")]
    item = normalize_spaces(soup(home).select_one("#recent li").get_text())
    assert "All programs" in item
    assert "919800000001" not in home.get_data(as_text=True)
    assert "Mobile" not in item and "*" not in item  # not even the masked identifier


def test_keeps_the_latest_ten_distinct_members_newest_first(app, client, upstream):
    with warnings_of(upstream, 700000003, MERGED_WARNING):  # a warning, not 91001
        for member_id in range(700000001, 700000006):
            assert client.get(f"/members/{member_id}").status_code == 200
    client.get("/members/700000001?program=1933&from=2026-01-01")  # reopened: moves to the top
    links = recent_links(client.get("/"))
    assert links[0] == ("/members/700000001?program=1933&from=2026-01-01", "Member 700000001")
    assert len(links) == 5
    # Unknown members are not found, so they are never remembered.
    assert client.get("/members/123456789").status_code == 404
    assert len(recent_links(client.get("/"))) == 5
    with app.app_context():
        # Members opened (audited as found) by this agent beyond the list's length.
        for member_id in range(800000001, 800000001 + KEEP + 3):
            db.session.add(
                AuditRecord(
                    staff_username="agent.alice",
                    identifier_type="customer_id",
                    member_id=member_id,
                    program_scope="all",
                    outcome="found",
                    kind="lookup",
                )
            )
        db.session.commit()
    links = recent_links(client.get("/"))
    assert len(links) == KEEP
    assert links[0][1] == f"Member {800000001 + KEEP + 2}"


def test_each_staff_member_sees_only_their_own(app, client, upstream):
    client.get("/members/700000002")
    other = sign_in(app.test_client(), ADMIN)
    assert recent_links(other.get("/")) == []
    assert len(recent_links(client.get("/"))) == 1


def test_ticket_summary_has_key_figures_and_a_masked_identifier(client, upstream):
    response = client.post("/lookup", data=BY_MOBILE)
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    text = soup(page).select_one("pre#ticket-summary").get_text()
    assert "919800000001" not in html
    lines = text.splitlines()
    assert lines[0] == "Member: 700000001"
    assert lines[1].startswith("Looked up by: Mobile number ")
    assert lines[1] == "Looked up by: " + normalize_spaces(soup(page).select_one("#looked-up").text)
    assert "Program: All programs" in lines
    assert any(line.startswith("As of: ") and "(IST, UTC+05:30)" in line for line in lines)
    assert "Available now: 6,150.75" in lines
    assert "Total: 6,751.125" in lines
    assert "Next conversions:" in lines
    nxt = lines[lines.index("Next conversions:") + 1 :][:3]
    # The sandbox dates member 700000001's first conversion five days after "today", on
    # the same frozen clock the app reads.
    first = frozen_today() + timedelta(days=5)
    shown = format_date(first, "EEE d MMM y", locale="en_US")  # "Wed 6 Jan 2027": no zero pad
    assert nxt[0] == f"- {shown} (UTC+05:30): 12.5 points"
    assert all(line.startswith("- ") for line in nxt)
    assert "Waiting for an event (no date): 125 points" in lines
    button = soup(page).select_one("button#copy-summary")
    assert button["data-copy-target"] == "ticket-summary"
    assert soup(page).select_one("script[src$='js/copy.js']") is not None


def test_ticket_summary_names_what_is_missing(client, upstream):
    text = soup(client.get("/members/700000004")).select_one("#ticket-summary").get_text()
    assert "Next conversions: could not be fetched" in text
    assert "- The promised-points timeline is missing" in text


def test_printed_slip_marks_the_later_dates(client, upstream):
    page = soup(client.get("/members/700000002?program=all"))
    days = page.select("#timeline-table tbody.timeline-day")
    on_slip = ["off-slip" not in day["class"] for day in days]
    shown = on_slip.count(True)
    assert 1 <= shown <= 10 < len(days)
    assert on_slip == [True] * shown + [False] * (len(days) - shown)  # the soonest dates
    lines = sum(len(day.select("tr")) for day in days[:shown])
    assert lines <= 14
    assert page.select_one("#timeline-slip-note") is not None


def test_the_view_forms_dates_become_the_deep_links(client, upstream):
    response = client.get("/members/700000001?program=all&start_date=2026-12-01&end_date=&extra=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/members/700000001?program=all&from=2026-12-01"


def test_the_list_is_the_audit_trail_of_members_shown(app, client, upstream):
    client.post("/lookup", data={**BY_MOBILE, "identifier": "910000000000"})  # not found
    client.get("/members/700000001?program=890&to=2030-01-01")
    with app.app_context():
        rows = db.session.scalars(db.select(AuditRecord).order_by(AuditRecord.id)).all()
        assert [(r.outcome, r.member_id) for r in rows] == [
            ("not_found", None),
            ("found", 700000001),
        ]
        assert rows[1].end_date.isoformat() == "2030-01-01" and rows[1].start_date is None
    assert recent_links(client.get("/")) == [
        ("/members/700000001?program=890&to=2030-01-01", "Member 700000001")
    ]
