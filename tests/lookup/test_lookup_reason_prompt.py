"""With LOOKUP_REASONS set, no member page shows figures without a reason given in this
lookup: a deep link, a colleague's link or Refresh asks for it first, then records it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.extensions import db
from app.sandbox import data as demo
from tests.conftest import AGENT, sign_in, soup

REASONS = ["Member called", "Complaint"]
MEMBER = demo.MEMBER_MULTI_PROGRAM
PAGE = f"/members/{MEMBER}"


@pytest.fixture
def desk(make_app):
    return make_app(LOOKUP_REASONS=REASONS)


def _records(app) -> list[tuple[str, int | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        return [(r.outcome, r.member_id, r.reason) for r in rows]


def _shows_figures(page) -> bool:
    return page.select_one("#tile-available") is not None


def test_a_deep_link_asks_for_the_reason_before_any_figure(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    response = agent.get(PAGE, query_string={"program": "2199"})
    assert response.status_code == 200
    page = soup(response)
    assert not _shows_figures(page)
    form = page.select_one("form#reason-form")
    assert form["action"] == f"{PAGE}/reason?program=2199"
    assert [o.get_text() for o in form.select("select#reason option")] == [
        "Choose a reason",
        *REASONS,
    ]
    assert upstream.request_log() == []
    assert _records(desk) == []

    refused = agent.post(form["action"], data={"reason": "Just curious"})
    assert refused.status_code == 400
    assert soup(refused).select_one("#reason-error").get_text() == (
        "Choose why you are looking this member up."
    )
    assert _records(desk) == []

    given = agent.post(form["action"], data={"reason": "Complaint"})
    assert given.status_code == 302
    assert given.location == f"{PAGE}?program=2199"
    shown = soup(agent.get(given.location))
    assert _shows_figures(shown)
    assert _records(desk) == [("found", MEMBER, "Complaint")]


def test_refresh_without_a_reason_fetches_nothing_and_asks(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    response = agent.post(f"{PAGE}/refresh")
    assert response.status_code == 302
    assert response.location.startswith(PAGE)
    assert soup(agent.get(response.location)).select_one("form#reason-form")
    assert upstream.request_log() == []
    assert _records(desk) == []


def test_a_lookup_with_a_reason_goes_straight_to_the_figures_and_refresh_keeps_it(desk, upstream):
    agent = sign_in(desk.test_client(), AGENT)
    form = {"identifier_type": "mobile", "identifier": "919800000001", "program": "all"}
    response = agent.post("/lookup", data={**form, "reason": "Member called"})
    assert response.status_code == 302
    assert _shows_figures(soup(agent.get(response.location)))
    refreshed = agent.post(f"{PAGE}/refresh")
    assert _shows_figures(soup(agent.get(refreshed.location)))
    assert [reason for _, _, reason in _records(desk)] == ["Member called", "Member called"]
    # Another member's link is another lookup: it asks again.
    other = agent.get(f"/members/{demo.MEMBER_LARGE_SCHEDULE}")
    assert soup(other).select_one("form#reason-form")


def test_no_reasons_configured_means_no_prompt(client, upstream):
    page = soup(client.get(PAGE))
    assert page.select_one("form#reason-form") is None
    assert _shows_figures(page)
