"""The member story in a real browser: name, available now, the next conversion and the next
expiry on the first screen of a laptop (1366x768) and a phone (390x844); History one click
away, readable without script."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, sign_in
from tests.conftest import frozen_today

SIZES = {"laptop-1366x768": LAPTOP, "phone-390x844": PHONE}
FIRST_SCREEN = ("#member-name", "#answer-available", "#answer-next", "#answer-expiry")


def long_date(days_ahead: int) -> str:
    return format_date(frozen_today() + timedelta(days=days_ahead), "EEE d MMM y", locale="en_US")


def assert_above_the_fold(page, selector: str) -> None:
    """The element's whole box is inside the first screen, without scrolling."""
    page.wait_for_load_state("load")  # its stylesheet in, when a click brought it
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (
        f"{selector} spans {box} in a {height}px-high screen"
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("member", ["700000001", "700000022", "700000021"])
def test_name_available_next_conversion_and_next_expiry_on_the_first_screen(
    new_context, size, member
):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    page.goto(f"/members/{member}")
    expect(page.locator("#member-name-text")).to_be_visible()
    for selector in FIRST_SCREEN:
        assert_above_the_fold(page, selector)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"story-{member}-{size}-fold.png")


def test_the_expiring_sentence_reads_as_the_agent_says_it(new_context):
    page = new_context(viewport=PHONE).new_page()
    sign_in(page)
    page.goto("/members/700000022")
    expect(page.locator("#answer-expiry")).to_have_text(
        f"Expiring: 200 points in Gold Club on {long_date(7)}, in 7 days."
    )
    expect(page.locator("#member-name-text")).to_have_text("Nikhil B.")


@pytest.mark.parametrize("javascript", [True, False])
def test_history_is_one_click_away_and_needs_no_script(new_context, javascript):
    page = new_context(viewport=LAPTOP, java_script_enabled=javascript).new_page()
    sign_in(page)
    page.goto("/members/700000023")
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Points history of member 700000023")).to_be_visible()
    expect(page.locator("#history-incomplete")).to_be_visible()
    expect(page.locator("#history-table tbody tr")).to_have_count(10)
    page.get_by_role("link", name="Older events").click()
    expect(page.locator("#history-range")).to_contain_text("page 2 of 3")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"history-700000023-js-{javascript}.png", full_page=True)


def test_the_printed_slip_carries_the_tier_and_the_next_expiry(new_context):
    page = new_context(viewport=LAPTOP).new_page()
    sign_in(page)
    page.goto("/members/700000021")  # nothing expires within 90 days; 75 points in 120
    expect(page.locator("#answer-expiry-next")).to_be_hidden()
    page.emulate_media(media="print")
    expect(page.locator("#tier-list")).to_be_visible()
    expect(page.locator("#answer-expiry-next")).to_have_text(
        f"Next expiry: 75 points in Gold Club on {long_date(120)} (IST, UTC+05:30)."
    )
    expect(page.locator("#expiry")).to_be_hidden()  # the table stays on screen only
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "Gold Club: Gold" in text and "Next expiry: 75 points" in text
