"""The member-story reads (customer details, points expiry, points ledger) against a real HTTP
server: the requests sent, the documented shapes read leniently, errors typed and scrubbed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from app.capillary import (
    Identifier,
    MalformedResponse,
    MemberLookup,
    MemberNotFound,
    UpstreamApiError,
    UpstreamUnavailable,
)
from tests.support.capillary_support import MOBILE, fast_client, to_json

JSON = "application/json"
IST = ZoneInfo("Asia/Kolkata")
BY_MOBILE = MemberLookup(identifiers=(Identifier("mobile", MOBILE),))

PROFILE = {
    "id": 700000001,
    "profiles": [{"firstName": "Asha", "lastName": "Rao", "identifiers": []}],
    "loyaltyProgramDetails": [
        {
            "programId": 2199,
            "programTitle": "Gold Club",
            "currentSlab": "Gold",
            "nextSlab": "Platinum",
            "slabExpiryDate": "2026-12-31T23:59:59+05:30",
            "loyaltyPoints": "__4200.000__",
        },
        {"programId": 890, "currentSlab": "Base", "nextSlab": "", "slabExpiryDate": None},
    ],
    "warnings": [],
}
EXPIRY = {
    "id": 700000001,
    "expirySchedules": [
        {
            "points": "__120.000__",
            "expiryDate": "2027-05-06",
            "programId": 2199,
            "pointsType": "customer_promotions",
            "expiryType": "rolling",
        },
        {
            "points": 200,
            "expiryDate": "2026-12-31",
            "expiryDateISO": "2026-12-31T23:59:59+05:30",
            "programId": 2199,
            "pointsType": "bill_regular",
            "expiryType": "fixed",
        },
        {
            "points": "35.500",
            "expiryDate": "2026-12-31 10:00:00",
            "programId": 1933,
            "pointsType": "line_item_promotions",
        },
        {"points": -40, "expiryDate": "2027-01-02", "programId": 890, "pointsType": "x"},
    ],
    "warnings": [],
}


def ledger_body(entries: list[dict], *, total: int | None = None, **extra: object) -> dict:
    return {
        "ledgerDetails": {
            "pageNumber": 1,
            "pageSize": 10,
            "totalEntries": len(entries) if total is None else total,
            "pageCount": 3,
        },
        "ledgerEntries": entries,
        "warnings": [],
        **extra,
    }


EARNED = {
    "eventLogId": 880001,
    "eventName": "TransactionAdd",
    "ledgerCreatedDate": "2026-11-24 11:10:00",
    "entryDetails": [
        {
            "ledgerEntryType": "CREDIT",
            "points": "350.000",
            "pointsCategory": "REGULAR",
            "programId": 2199,
            "programName": "Gold Club",
        }
    ],
    "netPointsOnEvent": "350.000",
    "store": "Indiranagar Store",
    "tillCode": "indiranagar.till1",
}


@pytest.fixture
def client(httpserver: HTTPServer):
    with fast_client(httpserver.url_for("/"), cluster_timezone=IST) as made:
        yield made


def serve(httpserver: HTTPServer, path: str, body: object, status: int = 200) -> None:
    text = body if isinstance(body, str) else to_json(body)
    httpserver.expect_request(path, method="GET").respond_with_data(
        text, status=status, content_type=JSON
    )


def sent_query(httpserver: HTTPServer) -> dict[str, str]:
    [(request, _)] = httpserver.log
    return request.args.to_dict()


# --- customer details: name and tier ---------------------------------------------------------


def test_customer_details_by_id_ask_for_the_programs_and_read_name_and_tiers(httpserver, client):
    serve(httpserver, "/v2/customers/700000001", PROFILE)
    profile = client.get_member_profile(700000001)
    assert sent_query(httpserver) == {"embed": "mlp"}
    assert (profile.entity_id, profile.first_name, profile.last_name) == (700000001, "Asha", "Rao")
    gold, fuel = profile.tiers
    assert (gold.program_id, gold.current_tier, gold.next_tier) == (2199, "Gold", "Platinum")
    assert gold.tier_expires == datetime(
        2026, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    # An empty nextSlab is "no next tier"; a null expiry is "no expiry".
    assert (fuel.current_tier, fuel.next_tier, fuel.tier_expires) == ("Base", None, None)


def test_customer_details_by_lookup_keep_the_identifier_out_of_errors(httpserver, client):
    body = {"warnings": [], "errors": [{"status": False, "code": 8015, "message": f"no {MOBILE}"}]}
    serve(httpserver, "/v2/customers/lookup/customerDetails", body, status=400)
    with pytest.raises(MemberNotFound) as caught:
        client.get_member_profile(BY_MOBILE)
    assert MOBILE not in str(caught.value)
    query = sent_query(httpserver)
    assert query["identifierName"] == "mobile" and query["embed"] == "mlp"


def test_a_profile_without_a_name_or_programs_is_read_and_its_repr_names_no_one(httpserver, client):
    serve(httpserver, "/v2/customers/5", {"entityId": 5, "profiles": [], "warnings": []})
    profile = client.get_member_profile(5)
    assert (profile.entity_id, profile.first_name, profile.tiers) == (5, None, ())
    serve(httpserver, "/v2/customers/6", PROFILE | {"id": 6})
    assert "Asha" not in repr(client.get_member_profile(6))


def test_a_malformed_profile_names_the_field_never_the_value(httpserver, client):
    bad = PROFILE | {"profiles": [{"firstName": 12345, "lastName": "Rao"}]}
    serve(httpserver, "/v2/customers/700000001", bad)
    with pytest.raises(MalformedResponse, match=r"profiles\[0\]\.firstName") as caught:
        client.get_member_profile(700000001)
    assert "12345" not in str(caught.value) and "Rao" not in str(caught.value)


# --- the points-expiry schedule ------------------------------------------------------------


def test_expiry_reads_id_and_every_documented_number_as_decimal_soonest_first(httpserver, client):
    serve(httpserver, "/v2/customers/700000001/pointsExpirySchedule", EXPIRY)
    schedule = client.get_expiry_schedule(700000001)
    query = sent_query(httpserver)
    assert query == {"fetchDataForAllPrograms": "true"}  # no fetchEarliestExpiryOnly, no dates
    assert schedule.entity_id == 700000001
    points = [entry.points for entry in schedule.entries]
    assert points == [Decimal("35.500"), Decimal(200), Decimal("-40"), Decimal("120.000")]
    assert all(isinstance(p, Decimal) for p in points)
    first = schedule.entries[0]
    # A date and time without an offset is read in the cluster's zone.
    assert first.expires_at == datetime(2026, 12, 31, 10, 0, tzinfo=IST)
    assert (first.expiry_type, schedule.entries[1].expiry_type) == (None, "fixed")


def test_expiry_by_lookup_uses_the_lookup_form(httpserver, client):
    serve(httpserver, "/v2/customers/lookup/pointsExpirySchedule", EXPIRY)
    client.get_expiry_schedule(BY_MOBILE)
    assert sent_query(httpserver)["identifierValue"] == MOBILE


@pytest.mark.parametrize("points", ["lots", "1e400", True, "NaN"])
def test_expiry_points_that_are_no_number_are_refused(httpserver, client, points):
    body = {
        "id": 1,
        "expirySchedules": [{"points": points, "expiryDate": "2027-01-01", "programId": 1}],
    }
    serve(httpserver, "/v2/customers/1/pointsExpirySchedule", json.dumps(body))
    with pytest.raises(MalformedResponse, match=r"expirySchedules\[0\]\.points"):
        client.get_expiry_schedule(1)


def test_an_expiry_failure_is_typed(httpserver, client):
    failed = {"warnings": [], "errors": [{"status": False, "code": 500, "message": "failed"}]}
    serve(httpserver, "/v2/customers/1/pointsExpirySchedule", failed, status=500)
    with pytest.raises(UpstreamUnavailable):
        client.get_expiry_schedule(1)


# --- the points ledger ---------------------------------------------------------------------


def test_the_ledger_asks_for_one_page_of_a_window_by_id(httpserver, client):
    serve(httpserver, "/v2/pointsLedger/getCustomerLedgerInfo", ledger_body([EARNED]))
    end = datetime(2026, 12, 7, 18, 29, 59, tzinfo=IST)
    page = client.get_ledger(
        700000001, start=end - timedelta(days=59), end=end.astimezone(UTC), offset=2
    )
    assert sent_query(httpserver) == {
        "identifierName": "id",
        "identifierValue": "700000001",
        "source": "INSTORE",
        # In the cluster's zone, in the documented yyyy-MM-ddTHH:mm:ss.
        "startDate": "2026-10-09T18:29:59",
        "endDate": "2026-12-07T18:29:59",
        "offset": "2",
        "limit": "10",
    }
    assert (page.page_number, page.page_count, page.total_entries) == (1, 3, 1)
    [event] = page.events
    assert event.net_points == Decimal("350.000")
    assert event.parts[0].points == Decimal("350.000")  # a string upstream
    assert event.created_at == datetime(2026, 11, 24, 11, 10, tzinfo=IST)
    assert (event.store, event.event_id, page.incomplete) == ("Indiranagar Store", "880001", False)


def test_11002_marks_the_page_incomplete_wherever_it_arrives(httpserver, client):
    note = {"status": False, "code": 11002, "message": "pending events"}
    serve(
        httpserver, "/v2/pointsLedger/getCustomerLedgerInfo", ledger_body([EARNED], errors=[note])
    )
    now = datetime(2026, 12, 7, tzinfo=UTC)
    page = client.get_ledger(1, start=now - timedelta(days=1), end=now)
    assert page.incomplete and len(page.events) == 1
    assert page.warnings == ()  # said once, in History's own words


@pytest.mark.parametrize("status", [200, 400])
def test_11003_is_an_empty_ledger_not_a_failure(httpserver, client, status):
    body = {"warnings": [], "errors": [{"status": False, "code": 11003, "message": "No entries"}]}
    serve(httpserver, "/v2/pointsLedger/getCustomerLedgerInfo", body, status=status)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    page = client.get_ledger(1, start=now - timedelta(days=1), end=now)
    assert (page.events, page.total_entries, page.page_count, page.incomplete) == ((), 0, 0, False)


def test_other_ledger_codes_still_fail(httpserver, client):
    body = {"warnings": [], "errors": [{"status": False, "code": 11010, "message": "range"}]}
    serve(httpserver, "/v2/pointsLedger/getCustomerLedgerInfo", body, status=400)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    with pytest.raises(UpstreamApiError) as caught:
        client.get_ledger(1, start=now - timedelta(days=1), end=now)
    assert caught.value.code == 11010


def test_the_ledger_window_and_page_are_checked_before_any_call(httpserver, client):
    now = datetime(2026, 12, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="60 days"):
        client.get_ledger(1, start=now - timedelta(days=61), end=now)
    with pytest.raises(ValueError, match="limit"):
        client.get_ledger(1, start=now - timedelta(days=1), end=now, limit=11)
    with pytest.raises(ValueError, match="offset"):
        client.get_ledger(1, start=now - timedelta(days=1), end=now, offset=-1)
    assert httpserver.log == []
