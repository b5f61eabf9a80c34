"""The answer at the top of the member page: for every sandbox member, from any identifier.

Expected dates come from the sandbox's raw schedule and the frozen clock (frozen_today()),
never from a date literal, so these pass on any day and at any hour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from app.capillary import PromisedSchedule, ScheduleEntry
from app.formatting import days_from_today, format_points
from app.lookup.page.answer import build_answer, build_past_due
from app.lookup.page.timeline import build_timeline
from app.sandbox import data as demo
from tests.conftest import TEST_ZONE, frozen_today, normalize_spaces, sandbox_config, soup
from tests.support.lookup_helpers import (
    LABEL_WARNING,
    MERGED_WARNING,
    schedule,
    warnings_of,
)

NAMES = {2199: "Gold Club", 1933: "Partner Rewards", 890: "Fuel Rewards"}
IST = ZoneInfo("Asia/Kolkata")


def long_date(day: date) -> str:
    return format_date(day, "EEE d MMM y", locale="en_US")


def expected_next(upstream, member_id: int) -> str:
    """The sentence the page must say, worked out from the sandbox's own answer."""
    raw = schedule(upstream, member_id, fetchDataForAllPrograms="true")
    if "promisedPointsScheduleList" not in raw:
        return "The next conversion is not known: the timeline could not be fetched (see above)."
    by_day: dict[date, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    past = False
    for entry in raw["promisedPointsScheduleList"]:
        day = date.fromisoformat(entry["redeemableFrom"])
        if day <= frozen_today():  # 00:00 in the cluster's zone: passed once today began
            past = True
            continue
        by_day[day][int(entry["programId"])] += entry["points"]
    waiting = sum((t["points"] for t in raw.get("triggerBasedPointsList", [])), Decimal(0))
    said = ""
    if waiting:
        said = f" {format_points(waiting, 'en_US')} points wait for an event (no date)."
    if not by_day:
        if waiting and not past:
            return said.strip()
        tail = "; some are past due (below)" if past else ""
        other = "other " if waiting else ""
        return f"No {other}promised points have a date to come{tail}.{said}"
    day = min(by_day)
    programs = by_day[day]
    points = format_points(sum(programs.values(), Decimal(0)), "en_US")
    days = (day - frozen_today()).days
    when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
    if len(programs) == 1:
        (pid,) = programs
        where = f"in {NAMES.get(pid, f'Program {pid}')}"
        split = ""
    else:
        where = f"across {len(programs)} programs"
        split = ": " + ", ".join(
            f"{NAMES.get(pid, f'Program {pid}')} {format_points(p, 'en_US')}"
            for pid, p in programs.items()
        )
    zone = "(IST, UTC+05:30)"
    return f"Next: {points} points {where} on {long_date(day)} {zone}, {when}{split}.{said}"


def identifiers_of(member: demo.DemoMember) -> dict[str, tuple[str, str]]:
    """What an agent may be given, as typed, and the kind the page must say it found."""
    national = member.mobile.removeprefix("91")
    return {
        "mobile": (member.mobile, "mobile number"),
        "mobile with +, spaces": (f"+91 {national[:5]} {national[5:]}", "mobile number"),
        "national mobile with dashes": (f"{national[:5]}-{national[5:]}", "mobile number"),
        "email": (member.email, "email address"),
        "card number in lower case": (member.card_number.lower(), "card number"),
        "external id": (member.external_id, "external id"),
        "customer id": (str(member.id), "Capillary customer id"),
    }


@pytest.mark.parametrize("member", demo.DEMO_MEMBERS, ids=lambda m: str(m.id))
def test_every_member_answers_first_whatever_identifier_was_given(client, upstream, member):
    with warnings_of(upstream, demo.MEMBER_WARNINGS, MERGED_WARNING, LABEL_WARNING):
        _answers_first(client, upstream, member)


def _answers_first(client, upstream, member):
    expected = expected_next(upstream, member.id)
    for name, (typed, kind) in identifiers_of(member).items():
        response = client.post(
            "/lookup", data={"identifier_type": "auto", "identifier": typed, "program": "all"}
        )
        assert response.status_code == 302, (name, response.status_code)
        page = soup(client.get(response.location))
        assert page.select_one("#member-id").get_text() == str(member.id), name
        assert page.select_one("#found-by").get_text() == f"Found by {kind}.", name
        said = " ".join(p.get_text() for p in page.select("#answer-next, #answer-waiting"))
        assert normalize_spaces(said) == expected, name


def test_the_answer_comes_before_the_figures_and_problems_before_the_answer(client, upstream):
    with warnings_of(upstream, demo.MEMBER_WARNINGS, MERGED_WARNING, LABEL_WARNING):
        page = soup(client.get(f"/members/{demo.MEMBER_WARNINGS}"))
    order = [
        tag.get("id")
        for tag in page.select("#warnings, #answer, #balance, #programs, #timeline, #summary")
    ]
    assert order == ["warnings", "answer", "balance", "programs", "timeline", "summary"]
    codes = [code.get_text() for code in page.select("#warnings .notice-code")]
    assert sorted(codes) == ["Code 8069", "Code 8107"]  # once each, from both calls
    assert len(page.select(".notice")) == 2


def test_a_cross_program_sum_says_it_is_one(client, upstream):
    page = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}?program=all"))
    labels = [normalize_spaces(dt.get_text()) for dt in page.select("#answer dt")]
    assert labels == ["Available now (all programs together)", "Promised (all programs together)"]
    last_column = page.select("#timeline-table thead")[0].select("th")[-1]
    assert normalize_spaces(last_column.get_text()) == "Available by then (all programs)"
    one = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}?program=1933"))
    assert [normalize_spaces(dt.get_text()) for dt in one.select("#answer dt")] == [
        "Available now",
        "Promised",
    ]
    assert normalize_spaces(one.select_one("#answer-title").get_text()) == (
        "At a glance: Partner Rewards (1933)"
    )


def test_in_n_days_turns_over_at_midnight_in_the_display_zone(make_client, upstream, clock):
    # The cluster zone (+05:30) is the business zone here; its midnight is 18:30 UTC.
    first = frozen_today() + timedelta(days=10)  # member 700000001's Gold Club date
    clock.set(datetime.combine(frozen_today(), time(23, 59, 59), TEST_ZONE))
    client = make_client()  # signed in at that moment, so the idle sign-out does not apply
    before = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}"))
    assert before.select_one("#answer-next .conversion-when").get_text() == "in 10 days"
    clock.advance(timedelta(seconds=1))
    after = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}"))
    assert after.select_one("#answer-next .conversion-when").get_text() == "in 9 days"
    assert after.select_one("#answer-next .conversion-date").get_text() == long_date(first)


def test_past_due_lines_are_never_next(client, upstream):
    page = soup(client.get(f"/members/{demo.MEMBER_DOC_SCHEDULE}?program=all"))
    lines = [normalize_spaces(li.get_text()) for li in page.select("#past-due .past-due-line")]
    assert lines == [
        "300 points in Partner Rewards (1933): due on 8 Apr 2022 (IST, UTC+05:30), "
        "not converted yet: check with the program team.",
        "520 points in Gold Club (2199): due on 10 Apr 2022 (IST, UTC+05:30), "
        "not converted yet: check with the program team.",
        "75.5 points in Partner Rewards (1933): due on 2 May 2022 (IST, UTC+05:30), "
        "not converted yet: check with the program team.",
    ]
    assert normalize_spaces(page.select_one("#past-due-title").get_text()) == (
        "Past due: 895.5 points"
    )
    assert page.select("#timeline-table tbody.timeline-day") == []
    summary = page.select_one("#ticket-summary").get_text().splitlines()
    assert "Next conversions: none with a date" in summary
    assert "Past due, not converted yet: 895.5 points (check with the program team)" in summary


def entry(points: str, at: str, program: int = 2199) -> ScheduleEntry:
    return ScheduleEntry(Decimal(points), datetime.fromisoformat(at), program, "bill_regular")


@pytest.mark.parametrize(
    ("today", "zone", "at", "day", "when"),
    [
        # Year end, in +05:30: midnight of 1 January is tomorrow on 31 December.
        ("2026-12-31", IST, "2027-01-01T00:00:00+05:30", "2027-01-01", "tomorrow"),
        ("2026-12-31", IST, "2027-01-07T00:00:00+05:30", "2027-01-07", "in 7 days"),
        # The same instant in UTC is still 31 December: today.
        ("2026-12-31", UTC, "2027-01-01T00:00:00+05:30", "2026-12-31", "today"),
        # Leap day and 1 March.
        ("2028-02-28", IST, "2028-03-01T10:00:00+05:30", "2028-03-01", "in 2 days"),
    ],
)
def test_days_are_counted_in_the_business_zone(today, zone, at, day, when):
    now = datetime.combine(date.fromisoformat(today), time(12), zone)
    sched = PromisedSchedule(7, "CUSTOMER", entries=(entry("300", at),))
    timeline = build_timeline(sched, Decimal(0), NAMES, None, now=now)
    answer = build_answer(
        scope_label="Gold Club (2199)",
        all_programs=False,
        balance=None,
        timeline=timeline,
        schedule_failed=False,
        past_due=(),
        zone=zone,
        today=date.fromisoformat(today),
        locale="en_US",
    )
    assert answer.next is not None
    assert (answer.next.day.isoformat(), answer.next.when) == (day, when)
    assert answer.next.programs[0].program_name == "Gold Club"


def test_an_entry_is_past_due_from_its_moment_on():
    at = "2026-12-15T09:00:00+05:30"
    sched = PromisedSchedule(7, "CUSTOMER", entries=(entry("10", at), entry("5", at, 1933)))
    moment = datetime.fromisoformat(at)
    assert build_timeline(sched, None, NAMES, None, now=moment - timedelta(seconds=1))
    assert build_timeline(sched, None, NAMES, None, now=moment) == ()
    lines = build_past_due(sched, moment, NAMES.__getitem__)
    # Oldest first, then by program id.
    assert [(line.program_name, line.points) for line in lines] == [
        ("Partner Rewards", Decimal("5")),
        ("Gold Club", Decimal("10")),
    ]


@pytest.mark.parametrize(
    ("days", "words"),
    [(0, "today"), (1, "tomorrow"), (2, "in 2 days"), (45, "in 45 days"), (400, "in 400 days")],
)
def test_days_read_as_words_an_agent_says(days, words):
    assert days_from_today(days, "en_US") == words


def test_one_zone_label_when_the_display_zone_reads_the_same(make_client, upstream):
    client = make_client(DISPLAY_TIMEZONE="Asia/Kolkata")
    page = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}?program=all"))
    assert page.select(".display-zone") == []
    assert page.select_one("#as-of").get_text().endswith("(IST, UTC+05:30)")
    zones = {z.get_text() for z in page.select("#timeline-table .timeline-date .zone")}
    assert zones == {"UTC+05:30"}


def test_as_of_is_in_the_display_zone(make_client, upstream, clock):
    client = make_client(DISPLAY_TIMEZONE="America/New_York")
    page = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}"))
    shown = clock.now().astimezone(ZoneInfo("America/New_York"))
    as_of = page.select_one("#as-of").get_text()
    assert as_of.startswith(format_date(shown, "d MMM y", locale="en_US"))
    assert as_of.endswith(("(EST, UTC-05:00)", "(EDT, UTC-04:00)"))


def test_date_fields_are_text_boxes_that_match_their_hint(client, upstream):
    for path in ("/", f"/members/{demo.MEMBER_MULTI_PROGRAM}"):
        page = soup(client.get(path))
        for name in ("start_date", "end_date"):
            box = page.select_one(f"input#{name}")
            assert box["type"] == "text", path
            assert page.select_one(f"#{name}-hint").get_text() == "Optional. YYYY-MM-DD"


def test_old_figures_are_called_out_at_the_top(make_client, upstream, clock):
    client = make_client(LOOKUP_CACHE_SECONDS=3600)
    client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}")
    assert soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}")).select_one("#stale") is None
    clock.advance(timedelta(minutes=3))
    page = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}"))
    assert normalize_spaces(page.select_one("#stale").get_text()) == (
        "These figures were fetched 3 minutes ago. Press Refresh before reading them out."
    )
    assert page.select_one("#age").get_text() == "(3 minutes ago)"


def test_sandbox_config_is_what_these_expectations_assume(upstream):
    assert sandbox_config(upstream)["CAPILLARY_PROGRAMS"] == NAMES


def test_words_read_aloud_once_and_printed_as_dates(client, upstream):
    """'Promised' as in the tiles; the scope not in double brackets; the zone said once; the
    relative 'in N days' kept off the printed slip."""
    page = soup(client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}"))
    assert normalize_spaces(page.select_one("#answer-title").get_text()) == (
        "At a glance: Gold Club (2199)"
    )
    assert normalize_spaces(page.select_one("#answer-pending dt").get_text()) == "Promised"
    assert page.select_one("#tile-promised .tile-label").get_text() == "Promised"
    zones = page.select("#answer .conversion-zone")
    assert [z.get_text() for z in zones] == ["(IST, UTC+05:30)"]  # on the first line only
    for when in page.select("#answer .conversion-when"):
        assert when.find_parent(class_="no-print") is not None


def test_a_month_heading_says_how_many_of_its_dates_are_printed(client, upstream):
    page = soup(client.get(f"/members/{demo.MEMBER_LARGE_SCHEDULE}?program=all"))
    printed = page.select("details.timeline-month")
    cut = [
        m
        for m in printed
        if "off-slip" not in m["class"] and m.select("tbody.timeline-day.off-slip")
    ]
    assert cut, "the soonest dates end inside a month"
    for month in cut:
        on_slip = len(month.select("tbody.timeline-day:not(.off-slip)"))
        note = month.select_one("summary .month-slip-dates.print-only")
        assert note is not None and note.get_text() == f", the soonest {on_slip} printed here"
    whole = [m for m in printed if not m.select("tbody.timeline-day.off-slip")]
    assert all(m.select_one(".month-slip-dates") is None for m in whole)
