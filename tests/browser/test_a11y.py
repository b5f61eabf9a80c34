"""Keyboard-only use, axe-core (WCAG 2.1 AA) on every page, and the printed slip.

axe runs through Playwright's evaluate, which the page's CSP does not govern, so the CSP stays
on here as everywhere else.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.axe_support import axe_violations
from tests.browser.conftest import ADMIN, AGENT, SCREENSHOTS, TEST_PASSWORD, sign_in


def focused_outline(page) -> tuple[str, str]:
    return page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )


def tab_to(page, name: str, limit: int = 40) -> None:
    """Press Tab until the element with this id has focus; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == name:
            return
    pytest.fail(f"Tab never reached #{name}")


def test_keyboard_only_sign_in_and_look_up(page):
    page.goto("/login")
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if order[-1] == "username":
            break
    assert order[-1] == "username", f"Tab order from the top: {order}"
    style, width = focused_outline(page)
    assert style != "none" and width != "0px"
    page.keyboard.type(AGENT)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Look up a member")).to_be_visible()

    # The search box has the focus on arrival: no Tab needed to start typing. Chromium applies
    # autofocus at its next rendering step, after the load event, so wait for it.
    expect(page.locator("#identifier")).to_be_focused()
    # Then the identifier type, the program and on to the button, in that order.
    seen = ["identifier"]
    for _ in range(30):
        page.keyboard.press("Tab")
        current = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        seen.append(current)
        style, width = focused_outline(page)
        assert style != "none" and width != "0px", f"no visible focus on {current}"
        if current == "submit":
            break
    assert "identifier_type" in seen and "submit" in seen, seen
    assert seen.index("identifier") < seen.index("identifier_type") < seen.index("program")
    assert seen.index("program") < seen.index("submit")

    page.focus("#identifier")
    page.keyboard.type("919800000001")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    # The wide tables' scroll regions and the summary are reachable and show focus too.
    tab_to(page, "ticket-summary", limit=80)
    style, _ = focused_outline(page)
    assert style != "none"


def test_axe_login_page(page):
    page.goto("/login")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()  # empty: errors shown
    expect(page.get_by_role("alert").first).to_be_visible()
    assert axe_violations(page) == []


def test_axe_lookup_form_empty_and_with_errors(agent_page):
    assert axe_violations(agent_page) == []
    agent_page.get_by_label("Identifier", exact=True).fill("not a phone")
    agent_page.get_by_label("Promised points from").fill("2027-02-01")
    agent_page.get_by_label("Promised points until").fill("2027-01-01")
    agent_page.get_by_role("button", name="Look up").click()
    expect(agent_page.get_by_role("alert").filter(has_text="Please check the form")).to_be_visible()
    assert axe_violations(agent_page) == []


@pytest.mark.parametrize(
    "path",
    [
        "/members/700000001?program=all",  # rich: three programs, chart, triggers
        "/members/700000002?program=all",  # a long timeline
        "/members/700000003",  # upstream warnings
        "/members/700000004",  # partial failure
        "/members/123456789",  # not found
        "/members/700000001?program=9999",  # a link that cannot be opened
    ],
)
def test_axe_member_pages(agent_page, path):
    agent_page.goto(path)
    expect(agent_page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_violations(agent_page) == []


def test_axe_admin_pages(admin_page):
    admin_page.goto("/members/700000001")
    admin_page.get_by_role("link", name="Audit").click()
    expect(admin_page.get_by_role("heading", name="Audit trail")).to_be_visible()
    assert axe_violations(admin_page) == []
    admin_page.get_by_role("link", name="Staff").click()
    expect(admin_page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_violations(admin_page) == []


@pytest.mark.parametrize("member", ["700000001?program=all", "700000002?program=all"])
def test_member_page_prints_as_a_one_page_slip(agent_page, member):
    page = agent_page
    page.goto(f"/members/{member}")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Refresh")).to_be_hidden()
    expect(page.get_by_role("form", name="Change program or dates")).to_be_hidden()
    expect(page.locator("#summary")).to_be_hidden()
    for shown in ("#member-id", "#looked-up", "#scope", "#as-of", "#tile-available", "#programs"):
        expect(page.locator(shown)).to_be_visible()
    days = page.locator("#timeline-table tbody.timeline-day")
    visible = [d for d in days.all() if d.is_visible()]
    assert 0 < len(visible) <= 10
    slip = page.pdf(format="A4", print_background=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / f"slip-{member.split('?')[0]}.pdf").write_bytes(slip)
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=SCREENSHOTS / f"slip-{member.split('?')[0]}-print.png", full_page=True)
    pdf = PdfReader(io.BytesIO(slip))
    assert len(pdf.pages) == 1, f"{member} prints on {len(pdf.pages)} pages"
    text = pdf.pages[0].extract_text()
    assert "Member 700000001" in text or "Member 700000002" in text
    assert "Sign out" not in text and "Look up" not in text
    assert re.search(r"Available now", text)


def test_admin_is_signed_in_for_admin_pages(admin_page):
    # Guards the fixture: the admin sees the admin links the agent does not.
    expect(admin_page.get_by_role("link", name="Audit")).to_be_visible()


def test_other_staff_member_signs_in(page):
    sign_in(page, ADMIN)
    expect(page.get_by_text(ADMIN)).to_be_visible()
