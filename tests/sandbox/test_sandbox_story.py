"""The sandbox's member-story endpoints over real HTTP, shaped as capillary-api.md 7.3 says:
customer details with `id`, the expiry schedule with `id`, the ledger with string points,
pages, 11002, 11003 and 11010; and the five demo members made for them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.sandbox import data as demo_data
from app.sandbox import story_data as story
from app.sandbox.auth import basic_header
from app.sandbox.server import SandboxServer
from app.sandbox.story_data import STORY_MEMBERS, ZONE

LEDGER = "v2/pointsLedger/getCustomerLedgerInfo"


def get(server: SandboxServer, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": basic_header(server.username, server.password)}
    return requests.get(server.url + path, params=params, headers=headers, timeout=10)


def body_of(response: requests.Response) -> dict[str, Any]:
    # Decimal floats: "350.000" keeps its three decimals, as a client reads it.
    return json.loads(response.text, parse_float=Decimal)


def ok(server: SandboxServer, path: str, **params: Any) -> dict[str, Any]:
    response = get(server, path, **params)
    assert response.status_code == 200, response.text
    return body_of(response)


def window(server: SandboxServer, days: int) -> dict[str, str]:
    end = server.state.clock.now().astimezone(ZONE)
    start = end - timedelta(days=days)
    return {"startDate": f"{start:%Y-%m-%dT%H:%M:%S}", "endDate": f"{end:%Y-%m-%dT%H:%M:%S}"}


def test_customer_details_name_the_member_by_id_and_give_tiers_only_with_mlp(upstream):
    plain = ok(upstream, "v2/customers/700000001")
    assert plain["id"] == 700000001 and "entityId" not in plain
    assert plain["profiles"][0]["firstName"] == "Asha"
    assert "loyaltyProgramDetails" not in plain
    with_mlp = ok(upstream, "v2/customers/700000001", embed="mlp")
    tiers = {t["programId"]: t for t in with_mlp["loyaltyProgramDetails"]}
    assert (tiers[2199]["currentSlab"], tiers[2199]["nextSlab"]) == ("Gold", "Platinum")
    by_lookup = ok(
        upstream,
        "v2/customers/lookup/customerDetails",
        source="INSTORE",
        identifierName="mobile",
        identifierValue="919800000001",
        embed="mlp",
    )
    assert by_lookup == with_mlp


def test_the_tier_ending_member_ends_gold_in_five_days(upstream):
    details = ok(upstream, f"v2/customers/{story.MEMBER_TIER_ENDING}", embed="mlp")
    [gold] = [t for t in details["loyaltyProgramDetails"] if t["programId"] == 2199]
    ends = datetime.fromisoformat(gold["slabExpiryDate"]).date()
    assert (ends - upstream.state.today).days == 5


def test_expiry_is_ascending_by_id_and_the_soon_member_loses_200_in_a_week(upstream):
    body = ok(upstream, f"v2/customers/{story.MEMBER_EXPIRING_SOON}/pointsExpirySchedule")
    assert body["id"] == story.MEMBER_EXPIRING_SOON and "entityId" not in body
    dates = [entry["expiryDateISO"] for entry in body["expirySchedules"]]
    assert dates == sorted(dates)
    first = body["expirySchedules"][0]
    assert first["points"] == Decimal("200.000") and first["expiryType"] == "fixed"
    assert (datetime.fromisoformat(first["expiryDateISO"]).date() - upstream.state.today).days == 7
    earliest = ok(
        upstream,
        f"v2/customers/{story.MEMBER_EXPIRING_SOON}/pointsExpirySchedule",
        fetchEarliestExpiryOnly="true",
    )
    assert len(earliest["expirySchedules"]) == 3  # one per program, type and expiry type


@pytest.mark.parametrize("member", [story.MEMBER_EXPIRY_FAILS, story.MEMBER_DUAL_ELIGIBILITY])
def test_the_failing_and_the_dual_eligibility_members_expiry_fails(upstream, member):
    response = get(upstream, f"v2/customers/{member}/pointsExpirySchedule")
    assert response.status_code == 500
    assert body_of(response)["errors"][0]["code"] == 500
    # Their name, tier and balance answer.
    assert get(upstream, f"v2/customers/{member}", embed="mlp").status_code == 200
    assert get(upstream, f"v2/customers/{member}/points/balance").status_code == 200


def test_the_long_ledger_is_paged_newest_first_with_string_points_and_11002(upstream):
    member = story.MEMBER_LONG_LEDGER
    pages = []
    for offset in range(5):
        body = ok(
            upstream,
            LEDGER,
            identifierName="id",
            identifierValue=str(member),
            source="INSTORE",
            limit="10",
            offset=str(offset),
            **window(upstream, 60),
        )
        assert body["ledgerDetails"] == {
            "pageNumber": offset,
            "pageSize": 10,
            "totalEntries": story.LONG_LEDGER_EVENTS,
            "pageCount": 5,
        }
        assert [w["code"] for w in body["warnings"]] == [11002]
        pages.extend(body["ledgerEntries"])
    assert len(pages) == story.LONG_LEDGER_EVENTS
    moments = [entry["ledgerCreatedDateISO"] for entry in pages]
    assert moments == sorted(moments, reverse=True)
    points = pages[0]["entryDetails"][0]["points"]
    assert isinstance(points, str) and points.endswith(".250")


def test_a_ledger_with_nothing_in_the_window_answers_11003(upstream):
    body = ok(
        upstream,
        LEDGER,
        identifierName="mobile",
        identifierValue="919800000010",
        source="INSTORE",
        **window(upstream, 30),
    )
    assert body["ledgerEntries"] == [] and [e["code"] for e in body["errors"]] == [11003]


def test_a_ledger_window_over_60_days_is_11010(upstream):
    response = get(
        upstream,
        LEDGER,
        identifierName="id",
        identifierValue="700000001",
        source="INSTORE",
        **window(upstream, 61),
    )
    assert response.status_code == 400
    assert body_of(response)["errors"][0]["code"] == 11010


def test_the_story_endpoints_need_credentials_and_are_logged_by_kind(upstream):
    for path in ("v2/customers/700000001", LEDGER, "v2/customers/700000001/pointsExpirySchedule"):
        assert requests.get(upstream.url + path, timeout=10).status_code == 401
    assert [e.kind for e in upstream.request_log()] == ["customer", "ledger", "expiry"]


def test_a_fault_can_hit_one_story_endpoint_alone(upstream):
    upstream.configure(fault="error", fault_on="expiry")
    assert get(upstream, "v2/customers/700000001/pointsExpirySchedule").status_code == 500
    assert get(upstream, "v2/customers/700000001", embed="mlp").status_code == 200


def test_every_story_member_is_found_by_each_identifier(upstream):
    for member in STORY_MEMBERS:
        for name, value in member.identifiers.items():
            body = ok(
                upstream,
                "v2/customers/lookup/points/balance",
                source="INSTORE",
                identifierName=name,
                identifierValue=value,
            )
            assert body["entityId"] == member.id


def test_no_identifier_is_shared_by_two_demo_members() -> None:
    # Two catalogues (the contract's shapes and the member story) add demo members: a value
    # two members share would find the wrong one.
    members = [*demo_data.ALL_MEMBERS, *STORY_MEMBERS]
    for kind in demo_data.IDENTIFIER_KINDS:
        values = [member.identifiers[kind] for member in members]
        assert len(values) == len(set(values)), kind
