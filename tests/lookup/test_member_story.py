"""Who the member is and what expires, on the member page over the sandbox: the name as the
role may see it, tiers, "Expiring: ..." and the expiry table; what it costs (two calls in the
same round, budgeted, cached, last-known in an outage); each part failing alone; and no name
or tier in logs, cache keys or the audit trail."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.capillary import (
    ExpiryEntry,
    ExpirySchedule,
    LedgerEvent,
    LedgerPage,
    LedgerPart,
    MemberProfile,
    ProgramTier,
    UpstreamMessage,
)
from app.extensions import db
from app.formatting import format_date
from app.lookup.fetching import codec
from app.lookup.fetching.outcome import Outcome
from app.sandbox import story_data as story
from app.sandbox.story_data import ZONE
from tests.conftest import ADMIN, AGENT, FROZEN_AT, normalize_spaces, sign_in, soup

ASHA = 700000001
IST = "(IST, UTC+05:30)"
# The calls of a lookup before the member story (three balances and the schedule), and now.
CALLS_BEFORE = 4
CALLS_NOW = 6


def text(page, selector: str) -> str:
    found = page.select_one(selector)
    assert found is not None, selector
    return normalize_spaces(found.get_text())


def day(upstream, days: int) -> str:
    return format_date(upstream.state.today + timedelta(days=days))


def kinds(upstream) -> list[str]:
    return sorted(entry.kind or "" for entry in upstream.request_log())


# --- who ---------------------------------------------------------------------------------


def test_the_answer_starts_with_the_first_name_initial_and_the_scopes_tier(client, upstream):
    page = soup(client.get(f"/members/{ASHA}"))
    # At the top of the answer block, before the figures.
    order = [tag["id"] for tag in page.select("#answer-who, #answer-available, #answer-next")]
    assert order == ["answer-who", "answer-available", "answer-next"]
    assert text(page, "#member-name-text") == "Asha R."
    assert [li["data-program-id"] for li in page.select("#tier-list li")] == ["2199"]
    assert text(page, "#tier-list li") == (
        f"Gold Club: Gold, until {day(upstream, 200)}, in 200 days; next: Platinum."
    )


def test_all_programs_list_each_programs_tier(client, upstream):
    page = soup(client.get(f"/members/{ASHA}?program=all"))
    lines = [normalize_spaces(li.get_text()) for li in page.select("#tier-list li")]
    assert [li["data-program-id"] for li in page.select("#tier-list li")] == ["2199", "1933", "890"]
    assert lines[2] == "Fuel Rewards: Base; next: Plus."


def test_the_full_name_goes_only_to_the_roles_allowed(make_app, upstream):
    app = make_app(MEMBER_NAME_ROLES=["admin"])
    admin = sign_in(app.test_client(), ADMIN)
    agent = sign_in(app.test_client(), AGENT)
    assert text(soup(admin.get(f"/members/{ASHA}")), "#member-name-text") == "Asha Rao"
    assert text(soup(agent.get(f"/members/{ASHA}")), "#member-name-text") == "Asha R."


def test_a_tier_about_to_end_says_so(client, upstream):
    page = soup(client.get(f"/members/{story.MEMBER_TIER_ENDING}"))
    line = page.select_one("#tier-list li")
    assert "tier-line--ending" in line["class"]
    assert text(page, "#tier-list .tier-when") == "ends in 5 days"


# --- what expires -------------------------------------------------------------------------


def test_expiring_soon_is_read_out_in_the_answer(client, upstream):
    page = soup(client.get(f"/members/{ASHA}"))
    assert text(page, "#answer-expiry") == (
        f"Expiring: 200 points in Gold Club on {day(upstream, 24)}, in 24 days."
    )
    week = soup(client.get(f"/members/{story.MEMBER_EXPIRING_SOON}"))
    assert text(week, "#answer-expiry") == (
        f"Expiring: 200 points in Gold Club on {day(upstream, 7)}, in 7 days."
    )


def test_several_programs_expiring_the_same_day_say_it_is_a_sum(client, upstream):
    page = soup(client.get(f"/members/{ASHA}?program=all"))
    assert text(page, "#answer-expiry") == (
        f"Expiring: 235.5 points across 2 programs on {day(upstream, 24)}, in 24 days: "
        "Gold Club 200, Partner Rewards 35.5."
    )


def test_nothing_within_expiry_soon_days_says_so(make_client, upstream):
    client = make_client(EXPIRY_SOON_DAYS=10)
    page = soup(client.get(f"/members/{ASHA}"))
    assert text(page, "#answer-expiry") == "Nothing expires in the next 10 days."
    assert len(page.select("#expiry-table tbody tr")) == 2  # the table still lists them


def test_the_expiry_table_sits_beside_the_timeline(client, upstream):
    page = soup(client.get(f"/members/{ASHA}?program=all"))
    ids = [tag["id"] for tag in page.select("#timeline, #expiry, #triggers")]
    assert ids.index("expiry") == ids.index("timeline") + 1
    rows = [
        [normalize_spaces(td.get_text()) for td in tr.select("td")]
        for tr in page.select("#expiry-table tbody tr")
    ]
    assert rows == [
        [f"{day(upstream, 24)} IST, UTC+05:30", "Gold Club", "Bill, regular", "Fixed date", "200"],
        [
            f"{day(upstream, 24)} IST, UTC+05:30",
            "Partner Rewards",
            "Line item, promotion",
            "Rolling",
            "35.5",
        ],
        [
            f"{day(upstream, 150)} IST, UTC+05:30",
            "Gold Club",
            "Customer, promotion",
            "Rolling",
            "120",
        ],
    ]
    assert text(page, "#expiry-total") == "355.5"


def test_the_ticket_summary_carries_the_tier_and_the_next_expiry_but_no_name(client, upstream):
    summary = soup(client.get(f"/members/{ASHA}")).select_one("#ticket-summary").get_text()
    lines = summary.splitlines()
    assert f"Tier: Gold Club: Gold until {day(upstream, 200)} {IST}; next Platinum" in lines
    assert f"Next expiry: 200 points in Gold Club on {day(upstream, 24)} {IST}, in 24 days" in lines
    assert "Asha" not in summary and "Rao" not in summary


# --- each part fails alone -----------------------------------------------------------------


def test_a_failed_expiry_call_leaves_the_rest_and_says_what_is_missing(client, upstream):
    response = client.get(f"/members/{story.MEMBER_EXPIRY_FAILS}")
    assert response.status_code == 200
    page = soup(response)
    titles = [text(n, ".notice-title") for n in page.select("#failures .notice")]
    assert titles == ["The points-expiry dates are missing"]
    assert text(page, "#answer-available dd") == "1,500 points"
    assert text(page, "#answer-next").startswith("Next: 55 points in Gold Club")
    assert text(page, "#member-name-text") == "Sanjay G."
    assert text(page, "#answer-expiry") == (
        "Expiring points are not known: the expiry dates could not be fetched (see above)."
    )
    assert page.select_one("#expiry-failed") is not None
    summary = page.select_one("#ticket-summary").get_text().splitlines()
    assert "Next expiry: could not be fetched" in summary


def test_a_failed_customer_details_call_leaves_the_rest(client, upstream):
    upstream.configure(fault="error", fault_on="customer")
    page = soup(client.get(f"/members/{ASHA}"))
    titles = [text(n, ".notice-title") for n in page.select("#failures .notice")]
    assert titles == ["The member's name and tier are missing"]
    assert page.select_one("#member-name") is None
    assert text(page, "#who-missing").startswith("Name and tier not known")
    assert text(page, "#answer-available dd") == "4,200 points"
    assert text(page, "#answer-expiry").startswith("Expiring: 200 points")


def test_under_dual_eligibility_expiry_is_not_called_and_the_page_says_why(make_client, upstream):
    client = make_client(CAPILLARY_DUAL_ELIGIBILITY=True)
    page = soup(client.get(f"/members/{story.MEMBER_DUAL_ELIGIBILITY}"))
    assert "expiry" not in kinds(upstream)
    assert text(page, "#answer-expiry").startswith(
        "Expiring points are not shown: the expiry API does not work under dual eligibility"
    )
    assert "does not work when dual eligibility is on" in text(page, "#expiry-unsupported")
    assert page.select_one("#failures") is None
    assert text(page, "#member-name-text") == "Divya M."


# --- what it costs -----------------------------------------------------------------------


def test_two_more_calls_in_the_same_round_then_none_from_the_cache(make_client, upstream):
    before = make_client(LOOKUP_MEMBER_DETAILS=False, LOOKUP_EXPIRY=False)
    assert before.get(f"/members/{ASHA}").headers["X-Upstream-Calls"] == str(CALLS_BEFORE)
    upstream.clear_log()
    client = make_client()
    # Each call waits a second upstream: had they gone one after another, the sixth would
    # arrive five seconds after the first.
    upstream.configure(latency=1.0)
    first = client.get(f"/members/{ASHA}")
    assert first.headers["X-Upstream-Calls"] == str(CALLS_NOW)
    arrivals = [entry.at for entry in upstream.request_log()]
    assert len(arrivals) == CALLS_NOW and max(arrivals) - min(arrivals) < 1.0
    assert kinds(upstream) == ["balance"] * 3 + ["customer", "expiry", "schedule"]
    upstream.clear_log()
    again = client.get(f"/members/{ASHA}?program=all")
    # Another scope: its own balance and schedule; name, tier and expiry come from the cache.
    assert kinds(upstream) == ["balance", "schedule"]
    assert text(soup(again), "#member-name-text") == "Asha R."


def test_the_budget_counts_the_story_calls(make_client, app, upstream):
    client = make_client(CAPILLARY_CALLS_PER_MINUTE=10)
    client.get(f"/members/{ASHA}")
    # Three balances, the schedule, customer details and the expiry schedule: one counter of
    # every API together (the default reading of the ceiling).
    assert client.application.extensions["lookup"].budget.usage().used == {"all": 6}


def test_an_outage_shows_the_last_known_name_tier_and_expiry(make_client, upstream):
    client = make_client(LOOKUP_CACHE_SECONDS=0, LOOKUP_ERROR_CACHE_SECONDS=0)
    assert client.get(f"/members/{ASHA}").status_code == 200
    upstream.configure(fault="unavailable")
    page = soup(client.get(f"/members/{ASHA}"))
    assert text(page, "#last-known-parts").startswith("Every figure on this page is last known.")
    assert text(page, "#member-name-text") == "Asha R."
    assert text(page, "#answer-expiry").startswith("Expiring: 200 points in Gold Club")
    assert page.select_one("#failures") is None


def test_only_the_story_calls_failing_are_named_last_known(make_client, upstream):
    client = make_client(LOOKUP_CACHE_SECONDS=0, LOOKUP_ERROR_CACHE_SECONDS=0)
    assert client.get(f"/members/{ASHA}").status_code == 200
    upstream.configure(fault="unavailable", fault_on="expiry")
    page = soup(client.get(f"/members/{ASHA}"))
    assert text(page, "#last-known-parts") == (
        "Only the expiry schedule is last known; the rest of the page is fresh. "
        "Press Refresh to try again."
    )


# --- personal data stays on the page ------------------------------------------------------


def test_no_name_or_tier_in_logs_cache_keys_or_the_audit_trail(app, client, upstream, caplog):
    caplog.set_level(logging.DEBUG)
    found = client.post("/lookup", data={"identifier_type": "mobile", "identifier": "919800000001"})
    assert found.status_code == 302
    page = client.get(found.location)
    assert text(soup(page), "#member-name-text") == "Asha R."  # it was fetched and shown
    client.get(f"/members/{ASHA}/history")
    secrets = ("Asha", "Rao", "Platinum", "Gold")
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert not [word for word in secrets if word in logged]
    keys = " ".join(app.extensions["lookup"].cache._entries)
    assert f"customer:{ASHA}:" in keys and not [word for word in secrets if word in keys]
    with app.app_context():
        rows = db.session.scalars(select(AuditRecord)).all()
        stored = " ".join(
            str(getattr(row, column)) for row in rows for column in AuditRecord.__table__.c.keys()
        )
    assert len(rows) == 2 and not [word for word in secrets if word in stored]
    assert "Asha" not in found.location and "Asha" not in page.request.url


# --- the shared cache's codec ------------------------------------------------------------


def test_story_values_survive_the_shared_cache_codec():
    at = FROZEN_AT.astimezone(ZONE)
    values = [
        MemberProfile(
            1, "Asha", "Rao", (ProgramTier(2199, "Gold Club", "Gold", None, at),), request_id="r"
        ),
        ExpirySchedule(
            1,
            (ExpiryEntry(Decimal("200.000"), at, 2199, "bill_regular", "fixed"),),
            (UpstreamMessage(8107, "label"),),
        ),
        LedgerPage(
            1,
            10,
            45,
            5,
            (
                LedgerEvent(
                    "88",
                    "TransactionAdd",
                    at,
                    (LedgerPart("CREDIT", Decimal("350.000"), "REGULAR", 2199, "Gold Club"),),
                    Decimal("350.000"),
                    "Store",
                    None,
                ),
            ),
            incomplete=True,
        ),
    ]
    for value in values:
        outcome = Outcome(value, None, FROZEN_AT)
        assert codec.decode_entry(codec.encode_entry(outcome)) == outcome


@pytest.mark.parametrize(
    "setting, value",
    [("MEMBER_NAME_ROLES", ["owner"]), ("EXPIRY_SOON_DAYS", -1), ("HISTORY_DEFAULT_DAYS", 61)],
)
def test_story_settings_are_checked_at_start(make_app, setting, value):
    from app.config_rules import ConfigError

    with pytest.raises(ConfigError, match=setting):
        make_app(**{setting: value})
