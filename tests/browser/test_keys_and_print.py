"""Hands on the keyboard (skip link, autofocus, Enter, visible focus), WCAG AA contrast on
hover and focus (axe does not check those states), and the printed slip with its buttons."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import SCREENSHOTS, TABLET, sign_in

CONTRAST_OF = """(el) => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const parts = rgb(getComputedStyle(node).backgroundColor);
    if (parts.length === 3 || (parts.length === 4 && parts[3] > 0)) {
      bg = parts.slice(0, 3);
      break;
    }
    node = node.parentElement;
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""
AA = 4.5


def test_skip_link_autofocus_and_enter(agent_page):
    page = agent_page
    # Arriving on the lookup page, the search box has the focus: type, press Enter. Autofocus
    # lands at Chromium's next rendering step, after the load event, so wait for it.
    expect(page.locator("#identifier")).to_be_focused()
    page.keyboard.type("asha.rao@example.com")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    # On any page the first Tab reaches the skip link, visible when focused.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    inside = page.evaluate("!!document.activeElement.closest('main')")
    assert inside, "after the skip link, Tab goes on inside the main content"
    # Every button of the member page shows where the focus is.
    for name in ("Refresh", "Print", "Copy link", "Show"):
        page.get_by_role("button", name=name).focus()
        style, width = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth]; })()"
        )
        assert style != "none" and width != "0px", name


@pytest.mark.parametrize("path", ["/", "/members/700000001?program=all"])
def test_buttons_keep_aa_contrast_on_hover_and_focus(agent_page, path):
    page = agent_page
    page.goto(path)
    buttons = page.locator("button:visible, .button:visible")
    assert buttons.count() >= 2
    checked = []
    for index in range(buttons.count()):
        button = buttons.nth(index)
        name = button.inner_text().strip()
        resting = button.evaluate(CONTRAST_OF)
        button.hover()
        hovered = button.evaluate(CONTRAST_OF)
        button.focus()
        focused = button.evaluate(CONTRAST_OF)
        checked.append((name, round(resting, 2), round(hovered, 2), round(focused, 2)))
        page.mouse.move(0, 0)
    low = [c for c in checked if min(c[1:]) < AA]
    assert low == [], f"below {AA}:1: {low}"


def test_copy_link_and_print_buttons(new_context):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page)
    page.goto("/members/700000001?program=all")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#link-status")).to_contain_text("Link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url and copied.endswith("/members/700000001?program=all")
    # Print opens the browser's print dialog: stand in for it, count the calls.
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed++; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1


@pytest.mark.parametrize("member", ["700000003", "700000001?program=all"])
def test_the_slip_shows_absolute_times_and_no_request_ids(agent_page, member):
    page = agent_page
    page.goto(f"/members/{member}")
    expect(
        page.locator(".notice-request-id").first
    ).to_be_attached() if "700000003" in member else None
    page.emulate_media(media="print")
    for hidden in (".notice-request-id", "#age", "#print-page", "#copy-link", ".answer-following"):
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(page.locator("#as-of")).to_have_text(
        re.compile(r"^\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d \(IST, UTC\+05:30\)$")
    )
    expect(page.locator("#answer-next")).to_be_visible()
    slip = page.pdf(format="A4", print_background=True)
    name = member.split("?")[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / f"slip-answer-{name}.pdf").write_bytes(slip)
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=SCREENSHOTS / f"slip-answer-{name}-print.png", full_page=True)
    pdf = PdfReader(io.BytesIO(slip))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Request id" not in text and "just now" not in text and "ago)" not in text
    assert "Next:" in text or "No promised points" in text


def test_tablet_member_page_screenshot(new_context):
    page = new_context(viewport=TABLET).new_page()
    sign_in(page)
    page.goto("/members/700000003")
    expect(page.locator("#warnings")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "member-700000003-tablet-fold.png")


def test_the_slip_fits_the_width_of_a4(agent_page):
    page = agent_page
    page.goto("/members/700000002?program=all")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1123})  # A4 less 12 mm margins, at 96 dpi
    for table in page.locator(".data-table:visible").all():
        box = table.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 718 + 1, box
