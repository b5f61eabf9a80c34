"""An agent never loses the call's context: the program chosen, a lookup in progress, and the
member or typed identifier across a sign-out. At a laptop's and a phone's size."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, sign_in

SIZES = {"desktop-1366x768": LAPTOP, "phone-390x844": PHONE}


def look_up(page, value: str) -> None:
    """Type into the search box and press Enter."""
    box = page.get_by_label("Identifier", exact=True)
    box.fill(value)
    box.press("Enter")


@pytest.mark.parametrize("size", SIZES)
def test_the_next_lookup_keeps_the_program_the_agent_chose(new_context, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    program = page.get_by_label("Program", exact=True)
    expect(program).to_have_value("2199")
    program.select_option(label="All programs")
    look_up(page, "+91 98000 00001")
    expect(page.locator("#answer-available dd")).to_have_text("6,150.75 points")
    # The next caller: back to the search page, the choice is still All programs.
    page.goto("/")
    expect(page.get_by_label("Program", exact=True)).to_have_value("all")
    look_up(page, "+91 98000 00001")
    expect(page.locator("#answer-available dd")).to_have_text("6,150.75 points")
    expect(page.locator("#answer-title")).to_have_text(re.compile("All programs"))
