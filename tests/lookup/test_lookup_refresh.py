"""How old the figures are, the Refresh button, the upstream-call count header and the
"busy" answer of the lookup bulkhead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.extensions import db
from app.lookup.page.model import age_seconds, age_text
from app.sandbox import data as demo
from tests.conftest import soup

MEMBER = demo.MEMBER_MULTI_PROGRAM


def audit_records(app) -> list[AuditRecord]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "just now"),
        (1, "1 second ago"),
        (42, "42 seconds ago"),
        (59, "59 seconds ago"),
        (60, "1 minute ago"),
        (119, "2 minutes ago"),
        (180, "3 minutes ago"),
        (2 * 3600, "2 hours ago"),
    ],
)
def test_age_in_words(seconds, text):
    assert age_text(seconds) == text


def test_age_is_whole_seconds_and_never_negative():
    at = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert age_seconds(at, at + timedelta(seconds=12.9)) == 12
    assert age_seconds(at, at - timedelta(seconds=3)) == 0


def test_lookup_and_page_report_their_upstream_calls(client, upstream):
    response = client.post(
        "/lookup",
        data={"identifier_type": "mobile", "identifier": "919800000001", "program": "2199"},
    )
    # Three balances and the schedule (4 before the member story), then customer details
    # (name and tier) and the expiry schedule in the same round.
    assert response.headers["X-Upstream-Calls"] == "6"
    page = client.get(response.location)
    assert page.headers["X-Upstream-Calls"] == "0"
    assert len(upstream.request_log()) == 6


def test_member_page_says_how_old_its_figures_are(client, upstream):
    page = soup(client.get(f"/members/{MEMBER}?program=all"))
    assert page.select_one("#age").get_text() in ("(just now)", "(1 second ago)")


def test_refresh_refetches_past_the_cache_and_returns_to_the_deep_link(client, upstream):
    link = f"/members/{MEMBER}?program=1933&from=2026-01-01&to=2099-12-31"
    page = soup(client.get(link))
    form = page.select_one("#refresh-form")
    assert form["method"] == "post"
    action = urlsplit(form["action"])
    assert action.path == f"/members/{MEMBER}/refresh"
    assert parse_qs(action.query) == {
        "program": ["1933"],
        "from": ["2026-01-01"],
        "to": ["2099-12-31"],
    }
    upstream.clear_log()
    assert client.get(link).headers["X-Upstream-Calls"] == "0"  # cached
    response = client.post(form["action"])
    assert response.status_code == 302
    assert response.location == link
    assert response.headers["X-Upstream-Calls"] == "6"
    assert len(upstream.request_log()) == 6
    upstream.clear_log()
    assert client.get(response.location).headers["X-Upstream-Calls"] == "0"
    assert upstream.request_log() == []


def test_a_refresh_is_an_audited_lookup_and_its_page_adds_no_second_record(app, client, upstream):
    link = f"/members/{MEMBER}?program=all"
    client.get(link)
    assert len(audit_records(app)) == 1  # the page opened from a link
    response = client.post(f"/members/{MEMBER}/refresh?program=all")
    assert response.status_code == 302
    rows = audit_records(app)
    assert len(rows) == 2
    assert (rows[1].member_id, rows[1].program_scope, rows[1].outcome) == (MEMBER, "all", "found")
    assert rows[1].upstream_ms is not None  # went upstream, past the cache
    assert client.get(response.location).status_code == 200
    assert len(audit_records(app)) == 2  # shown on the refresh's receipt
    client.get(response.location)
    assert len(audit_records(app)) == 3  # a reload is a view of its own


def test_refresh_needs_the_csrf_token(make_client, upstream):
    client = make_client(WTF_CSRF_ENABLED=True)
    page = soup(client.get(f"/members/{MEMBER}"))
    token = page.select_one("#refresh-form input[name=csrf_token]")["value"]
    upstream.clear_log()
    assert client.post(f"/members/{MEMBER}/refresh").status_code == 400
    assert upstream.request_log() == []
    assert client.post(f"/members/{MEMBER}/refresh", data={"csrf_token": token}).status_code == 302
    assert len(upstream.request_log()) == 6


def test_refresh_of_a_bad_link_says_what_is_wrong(client, upstream):
    response = client.post(f"/members/{MEMBER}/refresh?program=nope")
    assert response.status_code == 400
    assert upstream.request_log() == []


def test_lookups_beyond_the_concurrency_limit_get_a_quick_busy_page(make_client, upstream):
    client = make_client(LOOKUP_MAX_CONCURRENT=0)
    for response in (
        client.get(f"/members/{MEMBER}"),
        client.post("/lookup", data={"identifier_type": "mobile", "identifier": "919800000001"}),
        client.post(f"/members/{MEMBER}/refresh"),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert soup(response).select_one("#busy-message") is not None
    # The lookup form comes back with what was typed in it, ready for another try.
    busy_form = soup(client.post("/lookup", data={"identifier": "+91 98000 00001"}))
    assert busy_form.select_one("#identifier")["value"] == "+91 98000 00001"
    assert upstream.request_log() == []
    assert client.get("/").status_code == 200  # the form is not a lookup
