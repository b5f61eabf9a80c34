"""An agent never loses the call's context: the program chosen, a lookup in progress, and the
member or typed identifier across a sign-out. At a laptop's and a phone's size."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, TEST_PASSWORD, sign_in

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


@pytest.mark.parametrize("size", SIZES)
def test_a_lookup_on_its_way_says_so(new_context, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    # Hold the post in the page (listeners run in order, so the desk's script runs first):
    # what the agent sees for the 2-4 s of a slow upstream, for as long as the test looks.
    page.evaluate(
        "document.querySelector('#lookup-form')"
        ".addEventListener('submit', (event) => event.preventDefault())"
    )
    button = page.locator("#lookup-form [type=submit]")
    look_up(page, "+91 98000 00001")
    expect(button).to_have_value("Looking up...")
    expect(button).to_be_disabled()
    expect(page.locator("#lookup-form")).to_have_attribute("aria-busy", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"lookup-in-progress-{size}.png")


def test_a_slow_lookup_still_arrives_and_the_form_is_ready_again(new_context, upstream):
    page = new_context(viewport=LAPTOP).new_page()
    sign_in(page)
    upstream.configure(latency=1.5)
    # A number nobody has (and no cache holds): the wait is the upstream's.
    look_up(page, f"+91 97{random.randrange(10**8):08d}")
    expect(page.locator(".notice-title").first).to_have_text("Member not found")
    button = page.locator("#lookup-form [type=submit]")
    expect(button).to_have_value("Look up")
    expect(button).to_be_enabled()


def test_the_lookup_works_without_script(new_context):
    page = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    sign_in(page)
    look_up(page, "+91 98000 00001")
    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000001")


@pytest.fixture
def idle(live_server):
    """Move the live server's clock past the idle limit, and back after the test."""
    clock = live_server.app.extensions["clock"]
    started = clock.now()

    def past_the_idle_limit() -> None:
        clock.advance(timedelta(minutes=live_server.app.config["SESSION_IDLE_MINUTES"] + 1))

    yield past_the_idle_limit
    clock.set(started)


def sign_in_again(page, username: str) -> None:
    """The sign-in page after the idle limit: it says why, then signs the same agent in."""
    expect(page.locator(".flash")).to_contain_text("signed out after 30 minutes")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("size", SIZES)
def test_enter_after_the_idle_limit_comes_back_with_the_identifier_typed(new_context, idle, size):
    page = new_context(viewport=SIZES[size]).new_page()
    username = sign_in(page)
    page.get_by_label("Program", exact=True).select_option(label="All programs")
    page.get_by_label("Identifier", exact=True).fill("EXT-1005")
    idle()
    page.get_by_label("Identifier", exact=True).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert "EXT-1005" not in page.url
    sign_in_again(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Look up a member")
    expect(page.locator("#resumed")).to_contain_text("Your lookup is as you left it.")
    expect(page.get_by_label("Identifier", exact=True)).to_have_value("EXT-1005")
    expect(page.get_by_label("Program", exact=True)).to_have_value("all")
    assert "EXT-1005" not in page.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"signed-out-return-lookup-{size}.png")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000005")


@pytest.mark.parametrize("size", SIZES)
def test_refresh_after_the_idle_limit_comes_back_to_the_member_page(new_context, idle, size):
    page = new_context(viewport=SIZES[size]).new_page()
    username = sign_in(page)
    page.goto("/members/700000001?program=890")
    idle()
    page.get_by_role("button", name="Refresh").click()
    sign_in_again(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    assert page.url.endswith("/members/700000001?program=890")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"signed-out-return-member-{size}.png")
