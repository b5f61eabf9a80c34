"""History, one click from the member page, over the sandbox: the ledger newest first in
words with each event's net change, paged as the API pages, within a window of at most 60
days, 11002 said at the top, an audited view of its own, one call only when opened."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select, text

from app.audit.models import AuditRecord
from app.extensions import db
from app.sandbox import story_data as story
from tests.conftest import add_staff, normalize_spaces, sign_in, soup

ASHA = 700000001
FARAH = story.MEMBER_LONG_LEDGER


def texts(page, selector: str) -> list[str]:
    return [normalize_spaces(tag.get_text()) for tag in page.select(selector)]


def history_records(app) -> list[AuditRecord]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditRecord).where(AuditRecord.kind == "history").order_by(AuditRecord.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def ledger_calls(upstream) -> list[dict[str, str]]:
    return [entry.query for entry in upstream.request_log() if entry.kind == "ledger"]


def test_history_is_one_click_from_the_member_page_and_called_only_when_opened(client, upstream):
    page = soup(client.get(f"/members/{ASHA}"))
    assert ledger_calls(upstream) == []
    link = page.select_one("#history-link")
    assert link["href"] == f"/members/{ASHA}/history"
    response = client.get(link["href"])
    assert response.status_code == 200
    assert response.headers["X-Upstream-Calls"] == "1"
    [query] = ledger_calls(upstream)
    assert (query["identifierName"], query["identifierValue"]) == ("id", str(ASHA))
    assert (query["offset"], query["limit"]) == ("0", "10")


def test_events_are_in_words_newest_first_with_their_net_change(client, upstream):
    page = soup(client.get(f"/members/{ASHA}/history"))
    assert texts(page, "#history-table .history-words") == [
        "Promised points converted",
        "Redeemed at Koramangala Store",
        "Expired",
        "Earned on a bill at Indiranagar Store",
    ]
    assert texts(page, "#history-table .history-net") == ["0", "\u2212150", "\u221240", "+350"]
    moments = [tag["datetime"] for tag in page.select("#history-table time")]
    assert moments == sorted(moments, reverse=True)
    converted = page.select_one("#history-table tbody tr")
    assert texts(converted, ".history-line") == [
        "Gold Club (promised): \u221262.5",
        "Gold Club (regular): +62.5",
    ]


def test_a_long_ledger_pages_as_the_api_pages(client, upstream):
    today = upstream.state.today
    start = (today - timedelta(days=59)).isoformat()
    first = soup(client.get(f"/members/{FARAH}/history?from={start}"))
    assert len(first.select("#history-table tbody tr")) == 10
    assert first.select_one("#history-newer") is None
    assert "page 1 of 5" in normalize_spaces(first.select_one("#history-range").get_text())
    older = first.select_one("#history-older")["href"]
    second = soup(client.get(older))
    assert "page 2 of 5" in normalize_spaces(second.select_one("#history-range").get_text())
    assert ledger_calls(upstream)[-1]["offset"] == "1"
    last_first = first.select("#history-table time")[-1]["datetime"]
    assert second.select("#history-table time")[0]["datetime"] < last_first
    assert second.select_one("#history-newer") is not None


def test_pending_events_are_said_at_the_top(client, upstream):
    page = soup(client.get(f"/members/{FARAH}/history"))
    notice = page.select_one("#history-incomplete")
    assert normalize_spaces(notice.get_text()).startswith(
        "Pending events: the ledger may be incomplete."
    )
    assert notice.select_one(".notice-code").get_text() == "Code 11002"
    ids = [tag.get("id") for tag in page.select("#history-incomplete, #history-form, #history")]
    assert ids == ["history-incomplete", "history-form", "history"]


def test_no_entries_is_an_empty_list_not_a_failure(client, upstream):
    response = client.get("/members/565039505/history")
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#history-empty") is not None
    assert page.select_one("#history-failure") is None


def test_the_window_defaults_to_30_days_in_the_cluster_zone(client, upstream):
    client.get(f"/members/{ASHA}/history")
    [query] = ledger_calls(upstream)
    today = upstream.state.today
    assert query["startDate"] == f"{today - timedelta(days=29)}T00:00:00"
    assert query["endDate"] == f"{today}T23:59:59"


def test_a_window_the_api_would_refuse_is_refused_here_first(client, upstream):
    today = upstream.state.today
    cases = {
        f"from={today - timedelta(days=60)}&to={today}": "at most 60 days",
        f"from={today}&to={today - timedelta(days=1)}": "on or before the end date",
        f"to={today + timedelta(days=1)}": "cannot be after today",
        "from=yesterday": "not a date",
        "page=x": "not a page number",
        "to=0001-01-01": "too early",
    }
    for query, words in cases.items():
        response = client.get(f"/members/{ASHA}/history?{query}")
        assert response.status_code == 400, query
        message = normalize_spaces(soup(response).select_one("#history-window-error").get_text())
        assert words in message, (query, message)
    assert ledger_calls(upstream) == []
    # Sixty days, both ends included, is the most the API takes.
    ok = client.get(f"/members/{ASHA}/history?from={today - timedelta(days=59)}&to={today}")
    assert ok.status_code == 200


def test_opening_history_is_audited_as_its_own_view(app, client, upstream):
    today = upstream.state.today
    client.get(f"/members/{ASHA}")
    client.get(f"/members/{ASHA}/history?from={today - timedelta(days=9)}")
    [record] = history_records(app)
    assert (record.member_id, record.outcome, record.identifier_type) == (
        ASHA,
        "found",
        "customer_id",
    )
    assert (record.start_date, record.end_date) == (today - timedelta(days=9), today)
    assert isinstance(record.start_date, date)


def test_a_failed_ledger_call_says_so_with_its_code(app, client, upstream):
    upstream.configure(fault="error", fault_on="ledger")
    response = client.get(f"/members/{ASHA}/history")
    assert response.status_code == 200
    failure = soup(response).select_one("#history-failure")
    assert failure.select_one(".notice-code").get_text() == "Code 500"
    assert soup(response).select_one("#history-table") is None
    [record] = history_records(app)
    assert record.outcome == "upstream_error"


def test_the_budget_counts_history_calls(make_client, upstream):
    client = make_client(CAPILLARY_CALLS_PER_MINUTE=10)
    client.get(f"/members/{ASHA}/history")
    # One ledger call, counted with every other API's (the default reading of the ceiling).
    assert client.application.extensions["lookup"].budget.usage().used == {"all": 1}
    # The same window and page again: from the cache.
    again = client.get(f"/members/{ASHA}/history")
    assert again.headers["X-Upstream-Calls"] == "0"
    assert len(ledger_calls(upstream)) == 1


def test_history_needs_a_signed_in_agent(anon_client, upstream):
    response = anon_client.get(f"/members/{ASHA}/history")
    assert response.status_code in (302, 401)
    assert ledger_calls(upstream) == []


def test_the_who_looked_at_this_member_report_lists_history_views(app, client, upstream):
    with app.app_context():
        add_staff("manager.meg", "manager")
    found = client.post("/lookup", data={"identifier_type": "mobile", "identifier": "919800000001"})
    client.get(found.location)
    client.get(f"/members/{ASHA}/history")
    manager = sign_in(app.test_client(), "manager.meg")
    report = soup(manager.get(f"/admin/audit/member?member_id={ASHA}")).select_one("#member-report")
    assert normalize_spaces(report.select_one("#report-count").get_text()) == "2"
    looked_up_by = texts(report, "tr.report-row .report-identifier-type")
    assert looked_up_by == ["mobile number", "Capillary customer id (points history)"]


def test_history_that_cannot_be_recorded_is_not_shown(app, client, upstream):
    with app.app_context():
        db.session.execute(text("DROP TABLE audit_record"))
        db.session.commit()
    response = client.get(f"/members/{FARAH}/history")
    assert response.status_code == 503
    page = soup(response)
    assert "could not be written to the audit trail" in page.select_one("#not-recorded").get_text()
    assert page.select_one("#history-table") is None


def test_history_past_the_minutes_ledger_calls_gets_the_busy_page(make_client, upstream):
    # The ledger with a ceiling of its own (per API), four calls a minute.
    client = make_client(
        CAPILLARY_CALLS_PER_MINUTE=20,
        CAPILLARY_BUDGET_PER_API=json.dumps({"ledger": 4}),
        CAPILLARY_CALLS_PER_STAFF=4,
        CAPILLARY_BUDGET_RESERVE=0,
    )
    today = upstream.state.today
    for days in range(4):  # four windows: four calls
        opened = client.get(f"/members/{ASHA}/history?from={today - timedelta(days=days)}")
        assert opened.status_code == 200
    refused = client.get(f"/members/{ASHA}/history?from={today - timedelta(days=9)}")
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert soup(refused).select_one("#budget-message") is not None
    assert len(ledger_calls(upstream)) == 4
    # The member page's own APIs are counted apart, as Capillary counts them.
    assert client.get(f"/members/{ASHA}").status_code == 200


def test_history_views_are_timed_under_their_own_page_label(app, client, upstream):
    from app import metrics

    def timed() -> float:
        [family] = metrics.LOOKUP_SECONDS.collect()
        wanted = {"page": "history", "outcome": "found"}
        counts = [
            sample.value
            for sample in family.samples
            if sample.name.endswith("_count") and sample.labels == wanted
        ]
        return counts[0] if counts else 0.0

    before = timed()
    client.get(f"/members/{ASHA}/history")
    assert timed() == before + 1
