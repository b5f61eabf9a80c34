"""What staff see for each documented shape the sandbox serves (capillary-api.md section 7):
the whole app (signed-in agent -> view -> client -> real HTTP) against the session sandbox,
one shape member at a time, as a new user trying the demo would see it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from app.clock import FrozenClock
from app.sandbox import data as demo
from app.sandbox.server import SandboxServer, start_sandbox
from tests.conftest import FROZEN_AT, TEST_ZONE, normalize_spaces, soup
from tests.support.lookup_helpers import decimal_text

REACH = re.compile(r"\b(?:could not (?:be )?reach|unreachable|could not be reached)", re.I)


def page_of(client, member: int, **query: str):
    """The member page by customer id; never a server error or a trace."""
    response = client.get(f"/members/{member}", query_string=query)
    assert response.status_code < 500 or response.status_code in (502, 503, 504)
    assert "Traceback" not in response.get_data(as_text=True)
    return soup(response)


def tile(page, key: str) -> str:
    """A balance tile's figure as the page carries it (empty when not known)."""
    return page.select_one(f"#tile-{key} .tile-value")["data-points"]


def codes_in(page, where: str) -> list[str]:
    return [normalize_spaces(c.get_text()) for c in page.select(f"{where} .notice-code")]


def words_in(page, where: str) -> str:
    return normalize_spaces(" ".join(e.get_text(" ") for e in page.select(where)))


def test_91001_with_zeros_is_never_read_out_as_zero(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_POINTS_NOT_FETCHED)
    assert normalize_spaces(page.select_one("#answer-available dd").get_text()) == "not known"
    assert tile(page, "available") == ""
    assert "Code 91001" in codes_in(page, "#failures")
    # The schedule came: what is promised is still on the page.
    assert decimal_text(page.select_one("#timeline-total").get_text()) == Decimal("45")


def test_missing_promised_points_are_derived(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_NO_PROMISED_FIELD)
    assert Decimal(tile(page, "available")) == Decimal("1500")
    assert Decimal(tile(page, "promised")) == Decimal("150")
    assert Decimal(tile(page, "total")) == Decimal("1650")
    assert page.select_one("#failures") is None


@pytest.mark.parametrize(
    ("member", "available", "promised"),
    [
        (demo.MEMBER_INTEGER_POINTS, "2040", "300"),
        (demo.MEMBER_NEGATIVE_POINTS, "800", "60"),
        (demo.MEMBER_STRING_POINTS, "350", "53.33"),
    ],
    ids=["integers", "negative", "strings"],
)
def test_points_in_every_documented_number_form(
    client, upstream: SandboxServer, member: int, available: str, promised: str
) -> None:
    page = page_of(client, member)
    assert Decimal(tile(page, "available")) == Decimal(available)
    assert Decimal(tile(page, "promised")) == Decimal(promised)
    assert page.select_one("#failures") is None
    assert page.select_one("#lookup-failure") is None


def test_a_warning_code_in_errors_is_a_warning(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_WARNING_IN_ERRORS)
    assert Decimal(tile(page, "available")) == Decimal("910")
    assert "Code 8069" in codes_in(page, "#warnings")
    assert page.select_one("#failures") is None


def test_schedule_refused_by_the_access_group(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_DENIED_TEXT)
    assert Decimal(tile(page, "available")) == Decimal("1250")
    assert "Code 4000" in codes_in(page, "#failures")
    assert "access group" in words_in(page, "#failures").lower()


def test_every_call_refused_as_json_fields(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_DENIED_JSON)
    assert "Code 4000" in codes_in(page, "#lookup-failure")
    assert "access group" in words_in(page, "#lookup-failure").lower()


@pytest.mark.parametrize("member", [demo.MEMBER_CDN_522, demo.MEMBER_CDN_BLOCKED])
def test_cdn_pages_on_every_call_are_could_not_reach(
    client, upstream: SandboxServer, member: int
) -> None:
    page = page_of(client, member)
    words = words_in(page, "#lookup-failure")
    assert REACH.search(words), words
    assert "does not recognise" not in words
    assert "not allowed" not in words.lower()


def test_cdn_524_on_the_schedule_leaves_the_balance(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_CDN_524)
    assert Decimal(tile(page, "available")) == Decimal("3100")
    assert REACH.search(words_in(page, "#failures"))


def test_html_200_balance_is_not_an_answer(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_HTML_200)
    assert tile(page, "available") == ""
    assert REACH.search(words_in(page, "#failures"))
    assert decimal_text(page.select_one("#timeline-total").get_text()) == Decimal("64")


def test_dual_eligibility_member_found_by_the_primary_identifier(
    make_client, upstream: SandboxServer
) -> None:
    member = demo.DEMO_MEMBERS_BY_ID[demo.MEMBER_DUAL_ELIGIBILITY]
    client = make_client(CAPILLARY_DUAL_ELIGIBILITY=True)
    found = client.post("/lookup", data={"identifier_type": "mobile", "identifier": member.mobile})
    assert found.status_code == 302
    missing = client.post("/lookup", data={"identifier_type": "email", "identifier": member.email})
    page = soup(missing)
    assert "Code 8015" in codes_in(page, "#lookup-failure")
    # The org uses dual eligibility: the not-found words say a member may still exist.
    words = words_in(page, "#lookup-failure, .field-errors")
    assert re.search(r"dual eligibility|primary identifier", words, re.I), words


def test_refused_past_date_says_which_and_the_default_range(
    client, upstream: SandboxServer
) -> None:
    yesterday = upstream.state.today - timedelta(days=1)
    page = page_of(client, demo.MEMBER_PAST_DATE_REFUSED, **{"from": yesterday.isoformat()})
    codes = codes_in(page, "#lookup-failure") + codes_in(page, "#failures")
    words = words_in(page, ".field-errors, #view-form-error, #failures, #lookup-failure")
    assert "Code 1215" in codes, words
    assert "default range" in words


def test_the_same_member_without_dates_is_answered(client, upstream: SandboxServer) -> None:
    page = page_of(client, demo.MEMBER_PAST_DATE_REFUSED)
    assert Decimal(tile(page, "available")) == Decimal("990")
    assert page.select_one("#failures") is None


# --- the fault modes of the documented shapes, through the page ----------------------------


@pytest.fixture(scope="module")
def faulty() -> Iterator[SandboxServer]:
    """A sandbox of this module's own, since these tests set faults on it."""
    started = start_sandbox(clock=FrozenClock(FROZEN_AT), zone=TEST_ZONE)
    yield started
    started.stop()


@pytest.mark.parametrize(
    ("fault", "code", "says"),
    [
        ("access-denied", "Code 4000", re.compile("access group", re.I)),
        ("access-denied-json", "Code 4000", re.compile("access group", re.I)),
        ("authz-unavailable", "Code 4001", re.compile(r"authori[sz]ation", re.I)),
        ("cdn-522", None, REACH),
        ("cdn-524", None, REACH),
        ("cdn-blocked", None, REACH),
        ("html-200", None, REACH),
    ],
)
def test_contract_fault_modes_through_the_page(
    make_client, faulty: SandboxServer, fault: str, code: str | None, says: re.Pattern[str]
) -> None:
    faulty.reset()
    faulty.configure(fault=fault)
    try:
        client = make_client(CAPILLARY_BASE_URL=faulty.url)
        page = page_of(client, demo.MEMBER_MULTI_PROGRAM)
    finally:
        faulty.reset()
    words = words_in(page, "#lookup-failure")
    assert says.search(words), words
    assert "does not recognise" not in words
    codes = codes_in(page, "#lookup-failure")
    assert codes == ([code] if code else [])
