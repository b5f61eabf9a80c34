"""The answer block an agent reads aloud: on the first screen at every size, from any identifier.

Expected dates and "in N days" are computed from the frozen clock (frozen_today()), as the
sandbox dates its members from it; screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, TABLET, sign_in
from tests.conftest import frozen_today

SIZES = {"desktop-1366x768": LAPTOP, "tablet-768x1024": TABLET, "phone-390x844": PHONE}


def long_date(days_ahead: int) -> str:
    """The sandbox's day `days_ahead` after today, as the page writes it: 'Fri 11 Dec 2026'."""
    return format_date(frozen_today() + timedelta(days=days_ahead), "EEE d MMM y", locale="en_US")


def search(page, value: str, kind: str | None = None) -> None:
    """Type into the one search box (focused on arrival) and press Enter."""
    box = page.get_by_label("Identifier", exact=True)
    expect(box).to_be_focused()
    if kind:
        page.get_by_label("Identifier type", exact=True).select_option(label=kind)
    box.fill(value)
    box.press("Enter")


def assert_above_the_fold(page, selector: str) -> None:
    """The element's whole box is inside the first screen, without scrolling."""
    page.wait_for_load_state("load")  # its stylesheet in, when a click brought it
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (
        f"{selector} spans {box} in a {height}px-high screen"
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_next_conversion_is_on_the_first_screen(new_context, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    search(page, "+91 98000 00001")
    expect(page.get_by_role("heading", level=1)).to_have_text("Member 700000001")
    expect(page.locator("#found-by")).to_have_text("Found by mobile number.")
    answer = page.get_by_role("region", name=re.compile("At a glance"))
    expect(answer.locator("#answer-available dd")).to_have_text("4,200 points")
    expect(answer.locator("#answer-pending dd")).to_have_text("427.5 points")
    # Gold Club (the default program): 250 + 15 on day 10, then 62.5 on day 40.
    expect(answer.locator("#answer-next")).to_have_text(
        f"Next: 265 points in Gold Club on {long_date(10)} (IST, UTC+05:30), in 10 days."
    )
    expect(answer.locator("#answer-following li")).to_have_text(
        [f"Then 62.5 points in Gold Club on {long_date(40)}, in 40 days."]
    )
    assert_above_the_fold(page, "#answer")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"answer-700000001-{size}-fold.png")
    page.screenshot(path=SCREENSHOTS / f"answer-700000001-{size}-full.png", full_page=True)


@pytest.mark.parametrize("size", SIZES)
def test_all_programs_label_their_sums(new_context, size):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    page.goto("/members/700000001?program=all")
    answer = page.locator("#answer")
    expect(answer.locator("#answer-available dt")).to_have_text(
        "Available now (all programs together)"
    )
    expect(answer.locator("#answer-next")).to_have_text(
        f"Next: 12.5 points in Partner Rewards on {long_date(5)} (IST, UTC+05:30), in 5 days."
    )
    expect(page.locator("#timeline-table thead th").last).to_have_text(
        "Available by then (all programs)"
    )
    assert_above_the_fold(page, "#answer-next")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"answer-700000001-all-{size}-fold.png")


def test_a_long_history_is_folded_by_month(new_context):
    page = new_context(viewport=LAPTOP).new_page()
    sign_in(page)
    page.goto("/members/700000002?program=all")
    months = page.locator("#timeline-table details.timeline-month")
    count = months.count()
    assert count >= 18  # 480 entries over about 18 months
    opened = [m.get_attribute("open") is not None for m in months.all()]
    # Open: the month(s) of the soonest ten dates (the slip's); every later one folded.
    assert opened[0] and not any(opened[1:]), opened
    # Folded months keep their dates out of sight, and say their total and count instead.
    third = months.nth(1)
    expect(third.locator("tbody.timeline-day").first).to_be_hidden()
    expect(third.locator("summary")).to_contain_text(re.compile(r"points on \d+ dates?"))
    # The page is a few screens long, not 24 (with the next caller's search box, the name and
    # tiers, and the expiry table, about six and a bit).
    height = page.evaluate("document.documentElement.scrollHeight")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "member-700000002-folded-desktop.png", full_page=True)
    assert height < 7 * LAPTOP["height"], f"{height}px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "member-700000002-folded-desktop.png", full_page=True)
    third.locator("summary").click()
    expect(third.locator("tbody.timeline-day").first).to_be_visible()


def test_the_chart_reads_like_a_calendar(new_context):
    page = new_context(viewport=LAPTOP).new_page()
    sign_in(page)
    page.goto("/members/700000001?program=all")
    chart = page.locator("#timeline-chart svg")
    bars = chart.locator("rect.bar")
    dates = [date.fromisoformat(b.get_attribute("data-date")) for b in bars.all()]
    xs = [float(b.get_attribute("x")) for b in bars.all()]
    # Time-proportional: the distance between bars is the distance between their dates.
    per_day = (xs[-1] - xs[0]) / (dates[-1] - dates[0]).days
    for day, x in zip(dates, xs, strict=True):
        assert x == pytest.approx(xs[0] + (day - dates[0]).days * per_day, abs=0.02)
    # A tick at each month from the first date's month to the one after the last date.
    first, last = dates[0].replace(day=1), dates[-1]
    expected_months = []
    month = first
    while month <= last:
        expected_months.append(month.isoformat())
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    expected_months.append(month.isoformat())
    ticks = [t.get_attribute("data-month") for t in chart.locator("line.tick").all()]
    assert ticks == expected_months
    labels = chart.locator("text.month-label")
    assert labels.count() >= len(expected_months) - 2  # named, unless too close together
    # Few bars far apart: each carries its value, as the table writes it.
    values = {
        t.get_attribute("data-date"): t.text_content() for t in chart.locator(".value-label").all()
    }
    table = {
        g.get_attribute("data-date"): g.locator(".timeline-day-total").inner_text()
        for g in page.locator("#timeline-table tbody.timeline-day").all()
    }
    assert values and all(table[d] == v for d, v in values.items())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#timeline-chart").screenshot(path=SCREENSHOTS / "chart-700000001-all.png")
    page.goto("/members/700000002?program=all")
    page.locator("#timeline-chart").screenshot(path=SCREENSHOTS / "chart-700000002-all.png")
    # Labels never overlap one another, however many bars there are.
    boxes = [t.bounding_box() for t in page.locator("#timeline-chart .value-label").all()]
    for i, one in enumerate(boxes):
        for other in boxes[i + 1 :]:
            apart_x = (
                one["x"] + one["width"] <= other["x"] or other["x"] + other["width"] <= one["x"]
            )
            apart_y = (
                one["y"] + one["height"] <= other["y"] or other["y"] + other["height"] <= one["y"]
            )
            assert apart_x or apart_y, (one, other)


@pytest.mark.parametrize(
    ("typed", "kind", "member", "found_by"),
    [
        ("asha.rao@example.com", None, 700000001, "email address"),
        ("+91 98000 00001", None, 700000001, "mobile number"),
        ("98000-00003", None, 700000003, "mobile number"),  # the default country code added
        ("919800000002", None, 700000002, "mobile number"),  # digits: a mobile first
        ("700000004", None, 700000004, "Capillary customer id"),  # digits: an id first
        ("card-1005", None, 700000005, "card number"),  # any case
        ("EXT-DOC-1", None, 565039505, "external id"),
        ("374844123", "Capillary customer id", 374844123, None),  # a kind chosen: no guess
    ],
)
def test_one_search_box_works_out_what_was_typed(agent_page, typed, kind, member, found_by):
    search(agent_page, typed, kind)
    expect(agent_page.get_by_role("heading", level=1)).to_have_text(f"Member {member}")
    if found_by:
        expect(agent_page.locator("#found-by")).to_have_text(f"Found by {found_by}.")
    else:
        expect(agent_page.locator("#found-by")).to_have_count(0)
    expect(agent_page.locator("#answer-next")).to_be_visible()


def test_not_found_says_what_to_try_and_keeps_the_value(agent_page):
    search(agent_page, "98111 12222")
    alert = agent_page.get_by_role("alert")
    expect(alert).to_have_count(1)  # one message, not the same one in several boxes
    expect(alert.locator(".notice-title")).to_have_text("Member not found")
    expect(alert.locator("#next-steps li").first).to_contain_text("put 91 in front")
    expect(agent_page.get_by_label("Identifier", exact=True)).to_have_value("98111 12222")


def test_past_due_lines_have_their_own_section(new_context):
    page = new_context(viewport=LAPTOP).new_page()
    sign_in(page)
    page.goto("/members/374844123?program=all")
    past_due = page.get_by_role("region", name=re.compile("Past due"))
    expect(past_due.locator(".past-due-line")).to_have_count(3)
    expect(past_due.locator(".past-due-line").first).to_contain_text(
        "due on 8 Apr 2022 (IST, UTC+05:30), not converted yet: check with the program team."
    )
    expect(page.locator("#answer-next")).to_have_text(
        "No promised points have a date to come; some are past due (below)."
    )
    assert_above_the_fold(page, "#past-due")
    expect(page.locator("#timeline-table")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "member-374844123-past-due-desktop.png")


def test_with_warnings_the_answer_is_still_on_a_phones_first_screen(new_context):
    page = new_context(viewport=PHONE).new_page()
    sign_in(page)
    page.goto("/members/700000003")
    expect(page.locator("#warnings li.notice")).to_have_count(2)
    expect(page.locator("#answer-next")).to_have_text(
        f"Next: 45 points in Gold Club on {long_date(14)} (IST, UTC+05:30), in 14 days."
    )
    assert_above_the_fold(page, "#answer")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "answer-700000003-warnings-phone-390x844-fold.png")


@pytest.mark.parametrize("size", ["desktop-1366x768", "phone-390x844"])
@pytest.mark.parametrize("program", ["all", "890"])
def test_points_waiting_for_an_event_are_read_out_in_the_answer(new_context, size, program):
    page = new_context(viewport=SIZES[size]).new_page()
    sign_in(page)
    page.goto(f"/members/342249069?program={program}")
    answer = page.get_by_role("region", name=re.compile("At a glance"))
    expect(answer.locator("#answer-pending dd")).to_have_text("300 points")
    expect(answer.locator("#answer-waiting")).to_have_text(
        "300 points wait for an event (no date)."
    )
    # Nothing in the block says the pending points have no date to come.
    expect(answer.locator("#answer-next")).to_have_count(0)
    assert_above_the_fold(page, "#answer-waiting")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"answer-342249069-triggers-{program}-{size}-fold.png")
