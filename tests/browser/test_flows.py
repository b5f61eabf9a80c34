"""What staff do all day, in a real Chromium: sign in, look members up, read, change the view."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def points(text: str) -> Decimal:
    """'6,150.75' as shown -> Decimal('6150.75')."""
    return Decimal(text.strip().replace(",", ""))


def look_up(page, identifier_type: str, identifier: str, program: str | None = None) -> None:
    page.get_by_label("Identifier type", exact=True).select_option(label=identifier_type)
    page.get_by_label("Identifier", exact=True).fill(identifier)
    if program:
        page.get_by_label("Program", exact=True).select_option(label=program)
    page.get_by_role("button", name="Look up").click()


TOTAL = ".timeline-day-total"


def timeline_days(page) -> list[tuple[str, Decimal]]:
    """(date, day total) for each date group of the timeline table."""
    groups = page.locator("#timeline-table tbody.timeline-day")
    return [
        (group.get_attribute("data-date"), points(group.locator(TOTAL).inner_text()))
        for group in groups.all()
    ]


def test_look_up_by_mobile_and_read_the_member_page(agent_page):
    page = agent_page
    look_up(page, "Mobile number", "+91 98000-00001", program="All programs")

    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    expect(page).to_have_url(re.compile(r"/members/700000001\?program=all$"))
    facts = page.locator(".member-facts")
    expect(facts).to_contain_text("Mobile number")
    expect(facts).not_to_contain_text("919800000001")
    expect(page.locator("#scope")).to_have_text("All programs")

    balance = page.get_by_role("region", name="Points balance")
    expect(balance.locator("#tile-available .tile-value")).to_have_text("6,150.75")
    expect(balance.locator("#tile-total .tile-value")).to_have_text("6,751.125")

    programs = page.locator("#programs-table")
    expect(programs.get_by_role("rowheader", name=re.compile("Gold Club"))).to_be_visible()
    gold = programs.get_by_role("row").filter(has_text="Gold Club")
    expect(gold.locator("[data-col=total]")).to_have_text("4,627.5")
    expect(programs.locator("tfoot [data-col=total]")).to_have_text("6,751.125")

    # The chart is drawn, one bar per date in the table, each as tall as that day's total.
    chart = page.get_by_role("img", name="Promised points by date")
    expect(chart).to_be_visible()
    bars = page.locator("#timeline-chart rect.bar")
    days = timeline_days(page)
    assert len(days) > 1
    expect(bars).to_have_count(len(days))
    for bar, (day, total) in zip(bars.all(), days, strict=True):
        assert bar.get_attribute("data-date") == day
        assert Decimal(bar.get_attribute("data-points")) == total
        box = bar.bounding_box()
        assert box is not None and box["height"] > 0 and box["width"] > 0
    assert sum(total for _, total in days) == points(page.locator("#timeline-total").inner_text())


def test_look_up_by_customer_id(agent_page):
    look_up(agent_page, "Capillary customer id", "700000002")
    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Member 700000002")
    expect(agent_page.locator("#scope")).to_have_text("Gold Club (2199)")


def test_switch_program_and_change_the_dates(agent_page):
    page = agent_page
    page.goto("/members/700000001?program=all")
    all_days = timeline_days(page)
    assert len(all_days) >= 4

    view = page.get_by_role("form", name="Change program or dates")
    view.get_by_label("Program").select_option(label="Partner Rewards (1933)")
    view.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"program=1933"))
    expect(page.locator("#scope")).to_have_text("Partner Rewards (1933)")
    for cell in page.locator("#timeline-table .timeline-program").all():
        expect(cell).to_have_text("Partner Rewards")

    view.get_by_label("Program").select_option(label="All programs")
    start, end = all_days[1][0], all_days[3][0]
    view.get_by_label("Promised points from").fill(start)
    view.get_by_label("Promised points until").fill(end)
    view.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"from={start}&to={end}"))
    expect(page.locator("#date-range")).to_be_visible()
    shown = timeline_days(page)
    assert shown == all_days[1:4]
    expect(page.locator("#timeline-chart rect.bar")).to_have_count(3)


def test_member_not_found(agent_page):
    look_up(agent_page, "Mobile number", "919811112222")
    alert = agent_page.get_by_role("alert").filter(has_text="Member not found")
    expect(alert).to_be_visible()
    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Look up a member")
    # What was typed stays, so it can be corrected.
    expect(agent_page.get_by_label("Identifier", exact=True)).to_have_value("919811112222")


def test_upstream_failure_shows_the_rest_of_the_page(agent_page):
    look_up(agent_page, "Capillary customer id", "700000004")
    failures = agent_page.get_by_role("alert").filter(has_text="Some figures are missing")
    expect(failures).to_contain_text("The promised-points timeline is missing")
    expect(agent_page.locator("#tile-available .tile-value")).not_to_have_text("—")
    timeline = agent_page.get_by_role("region", name="When promised points become available")
    expect(timeline).to_contain_text("could not be fetched")


def test_reload_and_reopen_the_deep_link(agent_page, new_context):
    look_up(agent_page, "Email address", "asha.rao@example.com", program="All programs")
    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    deep_link = agent_page.url
    agent_page.reload()
    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    expect(agent_page.locator("#tile-total .tile-value")).to_have_text("6,751.125")

    # Someone else opening the link must sign in first, then lands on the member.
    other = new_context().new_page()
    other.goto(deep_link)
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    other.get_by_label("User name").fill("admin.bob")
    other.get_by_label("Password").fill("correct horse battery staple")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    expect(other.locator("#looked-up")).to_have_text("Capillary customer id (opened from a link)")


def test_recent_lookups_link_back(agent_page):
    agent_page.goto("/members/700000003")
    agent_page.goto("/members/700000001?program=all")
    agent_page.get_by_role("link", name="Look up", exact=True).click()
    recent = agent_page.get_by_role("region", name="Your recent lookups")
    links = recent.get_by_role("link")
    # The live server's database lasts the session: earlier tests' lookups follow these two.
    expect(links.nth(0)).to_have_text("Member 700000001")
    expect(links.nth(1)).to_have_text("Member 700000003")
    links.first.click()
    expect(agent_page).to_have_url(re.compile(r"/members/700000001\?program=all$"))


def test_copy_the_ticket_summary(new_context, live_server):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page)
    look_up(page, "Mobile number", "919800000001", program="All programs")
    summary = page.get_by_role("region", name="Summary for a ticket")
    text = summary.locator("pre").inner_text()
    assert text.startswith("Member: 700000001\nLooked up by: Mobile number ")
    assert "919800000001" not in text
    summary.get_by_role("button", name="Copy summary").click()
    expect(summary.get_by_role("status")).to_have_text("Summary copied. Paste it into the ticket.")
    assert page.evaluate("navigator.clipboard.readText()") == text


def test_sign_out(agent_page):
    agent_page.goto("/members/700000001")
    agent_page.get_by_role("button", name="Sign out").click()
    expect(agent_page.get_by_role("heading", name="Sign in")).to_be_visible()
    agent_page.goto("/members/700000001")
    expect(agent_page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(agent_page.locator("#member-id")).to_have_count(0)
