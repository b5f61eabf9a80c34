"""Manager and admin pages at a laptop's, a tablet's and a phone's width: a 64-character user
name widens no table, no page scrolls sideways, the admin navigation is all on screen; and
the "who looked at this member" report, found from a national mobile number."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from app.auth.models import StaffEvent
from app.extensions import db
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, TABLET, sign_in
from tests.conftest import add_staff

SIZES = {"desktop-1366x768": LAPTOP, "tablet-768x1024": TABLET, "phone-390x844": PHONE}
PAGES = ["/admin/staff", "/admin/trail", "/admin/audit", "/admin/audit/member?member_id=700000001"]


@pytest.fixture
def long_admin(live_server) -> str:
    """An admin whose name is as long as names go (64 characters), with a trail and lookups."""
    name = f"admin.{uuid.uuid4().hex}".ljust(64, "x")
    with live_server.app.app_context():
        add_staff(name, "admin")
        db.session.add(StaffEvent(actor=name, action="add", target=name, detail="role admin"))
        db.session.commit()
    return name


# The innermost elements that reach past the screen's right edge, to say what widened a page.
WIDEST = """width => [...document.querySelectorAll("main *")]
  .filter(e => e.getBoundingClientRect().right > width
    && ![...e.children].some(c => c.getBoundingClientRect().right > width))
  .slice(0, 5)
  .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`
    + ` ${Math.round(e.getBoundingClientRect().right)}px: ${e.textContent.trim().slice(0, 80)}`)"""


def _widest(page) -> list[str]:
    return page.evaluate(WIDEST, page.viewport_size["width"])


def assert_fits(page, path: str) -> None:
    """Nothing wider than the screen: no sideways scroll, every nav link inside the width."""
    # A page reached by a click may still be fetching its stylesheet: measured unstyled, a
    # 64-character name in a table cell is hundreds of pixels wide (seen once under load).
    page.wait_for_load_state("load")
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{path} is {scroll}px wide in a {width}px screen: {_widest(page)}"
    for link in page.locator(".site-nav a, .site-nav button").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
            path,
            link.text_content(),
            box,
        )


@pytest.mark.parametrize("size", SIZES)
def test_long_names_widen_nothing_and_nothing_scrolls_sideways(new_context, long_admin, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page, long_admin)
    page.goto("/members/700000001")  # so the audit trail holds a row with the long name
    for path in PAGES:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        assert_fits(page, path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/admin/staff")
    page.screenshot(path=SCREENSHOTS / f"staff-long-name-{size}.png", full_page=True)


@pytest.mark.parametrize("size", ["desktop-1366x768", "phone-390x844"])
def test_the_report_from_a_national_mobile_counts_every_kind(new_context, long_admin, size):
    agent = new_context(viewport=LAPTOP).new_page()
    sign_in(agent)
    for typed in ("+91 98000 00001", "CARD-1001", "asha.rao@example.com"):
        box = agent.get_by_label("Identifier", exact=True)
        box.fill(typed)
        box.press("Enter")
        expect(agent.get_by_role("heading", level=1)).to_have_text("Member 700000001")
        agent.goto("/")
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page, long_admin)
    page.goto("/admin/audit/member")
    page.get_by_label("Identifier (mobile, email, ...)").fill("98000 00001")
    page.get_by_role("button", name="Make the report").click()
    report = page.locator("#member-report")
    expect(report.locator("#report-title")).to_contain_text("member 700000001")
    expect(report.locator("#report-empty")).to_have_count(0)
    kinds = report.locator("#report-kinds")
    for words in ("mobile number", "card number", "email address"):
        expect(kinds).to_contain_text(words)
    assert int(report.locator("#report-count").text_content().split()[0]) >= 3
    assert_fits(page, "the report")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"report-700000001-{size}.png", full_page=True)
