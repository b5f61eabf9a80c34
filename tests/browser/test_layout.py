"""Layout at the store managers' tablet (768x1024) and a laptop (1366x768), with screenshots.

The screenshots land in test-artifacts/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, SCREENSHOTS, TABLET, sign_in

SIZES = {"tablet-768x1024": TABLET, "laptop-1366x768": LAPTOP}


def assert_no_sideways_scroll(page) -> None:
    """The page itself never scrolls sideways; wide tables scroll inside their own region."""
    page.wait_for_load_state("load")  # its stylesheet in, when a click brought it
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"page is {scroll_width}px wide in a {inner_width}px view"


@pytest.mark.parametrize("size", SIZES)
def test_lookup_form_fits(new_context, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    expect(page.get_by_label("Identifier", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Look up")).to_be_in_viewport()
    assert_no_sideways_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"lookup-form-{size}.png", full_page=True)


@pytest.mark.parametrize("size", SIZES)
def test_member_page_fits(new_context, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    page.goto("/members/700000001?program=all")
    expect(page.get_by_role("heading", name="Member 700000001")).to_be_visible()
    expect(page.locator("#timeline-chart svg")).to_be_visible()
    assert_no_sideways_scroll(page)
    # The balance tiles sit side by side in rows, never one squashed column of five.
    tops = [box["y"] for box in (t.bounding_box() for t in page.locator(".tile").all())]
    assert len(set(tops)) < len(tops), "the tiles should share rows"
    # Wide tables that do not fit scroll inside a named, focusable region.
    for region in page.locator(".table-scroll").all():
        expect(region).to_have_attribute("tabindex", "0")
        expect(region).to_have_attribute("role", "region")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"member-700000001-all-{size}.png", full_page=True)
    page.screenshot(path=SCREENSHOTS / f"member-700000001-all-{size}-fold.png")
