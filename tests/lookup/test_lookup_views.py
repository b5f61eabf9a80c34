"""The lookup form and the member page, end to end through the client and the sandbox."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from app.config_rules import ConfigError
from app.sandbox import data as demo
from tests.conftest import (
    AGENT,
    TEST_PASSWORD,
    frozen_today,
    normalize_spaces,
    sandbox_config,
    soup,
)
from tests.support.lookup_helpers import (
    LABEL_WARNING,
    MERGED_WARNING,
    balance,
    decimal_text,
    schedule,
    upstream_kinds,
    warnings_of,
)

PROGRAMS = tuple(demo.DEMO_PROGRAMS)


def post_lookup(client, **fields):
    """POST the lookup form with sensible defaults."""
    form = {"identifier_type": "mobile", "identifier": "", "program": "2199"}
    form.update(fields)
    return client.post("/lookup", data=form)


def open_member(client, upstream, member_id: int, **query):
    """Open a member's deep link and parse it."""
    response = client.get(f"/members/{member_id}", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return soup(response)


def tile(page, key: str) -> Decimal:
    return decimal_text(page.select_one(f"#tile-{key} .tile-value").get_text())


# --- the form --------------------------------------------------------------------------


def test_search_page_offers_identifier_types_and_programs(client, upstream):
    page = soup(client.get("/"))
    types = [o["value"] for o in page.select("#identifier_type option")]
    assert types == ["auto", "mobile", "email", "externalId", "cardnumber", "customer_id"]
    # Worked out from the value unless the staff member picks a kind.
    assert page.select_one("#identifier_type option[selected]")["value"] == "auto"
    programs = {o["value"]: o.get_text() for o in page.select("#program option")}
    assert programs == {
        "2199": "Gold Club (2199)",
        "1933": "Partner Rewards (1933)",
        "890": "Fuel Rewards (890)",
        "all": "All programs",
    }
    assert page.select_one("#program option[selected]")["value"] == "2199"


def _chosen_program(client) -> str:
    return soup(client.get("/")).select_one("#program option[selected]")["value"]


def test_the_form_starts_on_each_staff_members_last_program(app, client, admin_client, upstream):
    assert _chosen_program(client) == "2199"
    found = client.post(
        "/lookup", data={"identifier_type": "auto", "identifier": "919800000001", "program": "all"}
    )
    assert found.status_code == 302
    assert _chosen_program(client) == "all"
    # Another staff member keeps their own; a new sign-in of the same one keeps theirs.
    assert _chosen_program(admin_client) == "2199"
    again = app.test_client()
    again.post("/login", data={"username": AGENT, "password": TEST_PASSWORD})
    assert _chosen_program(again) == "all"
    # Switching program on the member page is a choice too.
    assert client.get("/members/700000001", query_string={"program": "890"}).status_code == 200
    assert _chosen_program(client) == "890"


def test_lookup_default_program_all_makes_all_programs_the_first_choice(make_client, upstream):
    assert _chosen_program(make_client(LOOKUP_DEFAULT_PROGRAM="all")) == "all"
    assert _chosen_program(make_client(LOOKUP_DEFAULT_PROGRAM="890")) == "890"


@pytest.mark.parametrize("bad", ["everything", "4242", "-1"])
def test_a_bad_lookup_default_program_refuses_to_start(make_app, bad):
    with pytest.raises(ConfigError, match="LOOKUP_DEFAULT_PROGRAM"):
        make_app(LOOKUP_DEFAULT_PROGRAM=bad)


@pytest.mark.parametrize(
    "typed",
    ["919800000001", "+91 98000 00001", "+91-980-000-0001", "(91) 9800000001", " 919800000001 "],
)
def test_mobile_typed_sloppily_is_accepted(client, upstream, typed):
    response = post_lookup(client, identifier=typed)
    assert response.status_code == 302
    assert urlsplit(response.location).path == f"/members/{demo.MEMBER_MULTI_PROGRAM}"
    sent = [entry.query for entry in upstream.request_log()]
    assert sent and all(q.get("identifierValue") == "919800000001" for q in sent)


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"identifier": ""}, "identifier", "Enter an identifier"),
        ({"identifier": "   "}, "identifier", "Enter"),
        ({"identifier": "98-00"}, "identifier", "6 to 15 digits"),
        ({"identifier": "9198000000x1"}, "identifier", "6 to 15 digits"),
        ({"identifier_type": "email", "identifier": "not-an-email"}, "identifier", "email"),
        ({"identifier_type": "customer_id", "identifier": "12a"}, "identifier", "digits only"),
        ({"identifier_type": "customer_id", "identifier": "-5"}, "identifier", "digits only"),
        ({"identifier_type": "customer_id", "identifier": "0"}, "identifier", "not a valid"),
        (
            {"identifier_type": "customer_id", "identifier": "9" * 30},
            "identifier",
            "not a valid",
        ),
        ({"identifier_type": "passport", "identifier": "x"}, "identifier_type", "Not a valid"),
        ({"identifier": "919800000001", "program": "12345"}, "program", "Not a valid"),
        (
            {"identifier": "919800000001", "start_date": "2027-02-01", "end_date": "2027-01-01"},
            "end_date",
            "on or after the start date",
        ),
        (
            {"identifier": "919800000001", "end_date": "2299-01-01"},
            "end_date",
            "within 100 years",
        ),
        ({"identifier": "919800000001", "start_date": "2027-02-30"}, "start_date", "date"),
        (
            {
                "identifier": "919800000001",
                "second_identifier_type": "mobile",
                "second_identifier": "919800000002",
            },
            "second_identifier",
            "different type",
        ),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client, upstream, fields, field_id, message):
    response = post_lookup(client, **fields)
    assert response.status_code == 400
    page = soup(response)
    errors = normalize_spaces(page.select_one(f"#{field_id}-error").get_text())
    assert message.lower() in errors.lower()
    assert upstream.request_log() == []  # nothing invalid reaches the upstream
    if fields.get("identifier", "").strip() and field_id == "identifier":
        assert page.select_one("#identifier")["value"] == fields["identifier"]


def test_post_without_csrf_token_is_refused(make_client, upstream):
    client = make_client(WTF_CSRF_ENABLED=True)
    response = post_lookup(client, identifier="919800000001")
    assert response.status_code == 400
    assert upstream.request_log() == []
    token = soup(client.get("/")).select_one("input[name=csrf_token]")["value"]
    response = post_lookup(client, identifier="919800000001", csrf_token=token)
    assert response.status_code == 302


# --- one round of calls, a deep link without personal data -------------------------------


def test_lookup_redirects_to_deep_link_without_the_identifier(client, upstream):
    response = post_lookup(client, identifier="+91 98000 00001", program="all")
    assert response.status_code == 302
    parts = urlsplit(response.location)
    assert parts.path == f"/members/{demo.MEMBER_MULTI_PROGRAM}"
    assert parse_qs(parts.query) == {"program": ["all"]}
    assert "9800000001" not in response.location


def test_post_makes_each_call_once_and_the_redirected_page_none(client, upstream):
    response = post_lookup(client, identifier="919800000001")  # program 2199 (default)
    calls = upstream_kinds(upstream)
    # Three per-program balances (2199's is the scope balance), one schedule, and the
    # member story's two: customer details (name and tier) and the expiry schedule.
    assert sorted(kind for kind, _, _ in calls) == [
        "balance",
        "balance",
        "balance",
        "customer",
        "expiry",
        "schedule",
    ]
    assert len(set(calls)) == len(calls)
    assert all("/lookup/" in path for _, path, _ in calls)
    upstream.clear_log()
    client.get(response.location)
    assert upstream.request_log() == []


def test_all_programs_adds_the_summed_balance_call(client, upstream):
    post_lookup(client, identifier="919800000001", program="all")
    queries = [entry.query for entry in upstream.request_log()]
    assert len(queries) == 7
    summed = [q for q in queries if q.get("fetchDataForAllPrograms") == "true"]
    # The all-programs balance and schedule, and the expiry schedule (always every program).
    assert len(summed) == 3


def test_deep_link_by_id_reloads_the_same_page_from_cache(client, upstream):
    member = demo.MEMBER_MULTI_PROGRAM
    first = open_member(client, upstream, member, program="all")
    calls = upstream_kinds(upstream)
    assert len(calls) == 7 and all(f"/customers/{member}" in path for _, path, _ in calls)
    upstream.clear_log()
    second = open_member(client, upstream, member, program="all")
    assert upstream.request_log() == []
    for key in ("available", "promised", "delayed", "trigger", "total"):
        assert tile(first, key) == tile(second, key)
    assert (
        first.select_one("#timeline-table").get_text()
        == second.select_one("#timeline-table").get_text()
    )


def test_switching_program_reuses_the_per_program_balances(client, upstream):
    member = demo.MEMBER_MULTI_PROGRAM
    open_member(client, upstream, member, program="2199")
    upstream.clear_log()
    open_member(client, upstream, member, program="1933")
    kinds = sorted(kind for kind, _, _ in upstream_kinds(upstream))
    assert kinds == ["schedule"]  # the balances per program are already known


def test_dual_identifiers_are_sent_as_a_comma_separated_pair(client, upstream):
    response = post_lookup(
        client,
        identifier="919800000001",
        second_identifier_type="email",
        second_identifier="asha.rao@example.com",
    )
    assert response.status_code == 302
    query = upstream.request_log()[0].query
    assert query["identifierName"] == "mobile,email"
    assert query["identifierValue"] == "919800000001,asha.rao@example.com"


# --- what the page shows -----------------------------------------------------------------


def test_header_masks_the_identifier_and_shows_scope_and_time_zone(client, upstream):
    response = post_lookup(client, identifier="919800000001", program="1933")
    page = soup(client.get(response.location))
    assert page.select_one("#member-id").get_text() == str(demo.MEMBER_MULTI_PROGRAM)
    looked_up = page.select_one("#looked-up").get_text()
    assert looked_up.startswith("Mobile number") and looked_up.endswith("0001")
    assert "919800000001" not in page.get_text()
    assert page.select_one("#scope").get_text() == "Partner Rewards (1933)"
    # "As of" in the zone whose date is today (here the cluster's), like the dates beside it.
    assert page.select_one("#as-of").get_text().endswith("(IST, UTC+05:30)")


@pytest.mark.parametrize("program", ["all", "2199", "1933", "890"])
def test_tiles_show_the_upstream_balance_for_the_scope(client, upstream, program):
    member = demo.MEMBER_MULTI_PROGRAM
    page = open_member(client, upstream, member, program=program)
    if program == "all":
        expected = balance(upstream, member, fetchDataForAllPrograms="true")
    else:
        expected = balance(upstream, member, programId=program)
    breakup = expected["promisedPointsBreakup"]
    assert tile(page, "available") == expected["mainPoints"]
    assert tile(page, "promised") == expected["promisedPoints"]
    assert tile(page, "delayed") == breakup["delayedAccrualPoints"]
    assert tile(page, "trigger") == breakup["externalTriggerBasedPoints"]
    assert tile(page, "total") == expected["totalPoints"]
    assert page.select_one("#tile-promised .tile-explanation").get_text()


def test_program_table_has_a_row_per_program_and_a_totals_row(client, upstream):
    member = demo.MEMBER_MULTI_PROGRAM
    page = open_member(client, upstream, member, program="all")
    rows = page.select("#programs-table tbody tr")
    assert [int(r["data-program-id"]) for r in rows] == list(PROGRAMS)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    upstream_keys = {
        "available": "mainPoints",
        "promised": "promisedPoints",
        "total": "totalPoints",
    }
    for row, program in zip(rows, PROGRAMS, strict=True):
        expected = balance(upstream, member, programId=program)
        for col, key in upstream_keys.items():
            assert decimal_text(row.select_one(f'[data-col="{col}"]').get_text()) == expected[key]
            sums[col] += expected[key]
    totals = page.select_one("#programs-table tfoot tr")
    for col in upstream_keys:
        assert decimal_text(totals.select_one(f'[data-col="{col}"]').get_text()) == sums[col]
    assert page.select_one("#programs-mismatch") is None


def test_program_table_says_when_rows_do_not_add_up_to_the_upstream_sum(client, upstream):
    member = demo.MEMBER_LEGACY_PROGRAM
    page = open_member(client, upstream, member, program="all")
    summed = balance(upstream, member, fetchDataForAllPrograms="true")["totalPoints"]
    listed = sum(
        (balance(upstream, member, programId=p)["totalPoints"] for p in PROGRAMS), Decimal(0)
    )
    assert summed != listed
    notice = normalize_spaces(page.select_one("#programs-mismatch").get_text())
    assert f"{summed - listed:,}".rstrip("0").rstrip(".") in notice


def test_timeline_groups_by_date_program_type_with_running_projection(client, upstream):
    member = demo.MEMBER_LARGE_SCHEDULE
    page = open_member(client, upstream, member, program="all")
    entries = schedule(upstream, member, fetchDataForAllPrograms="true")[
        "promisedPointsScheduleList"
    ]
    available = balance(upstream, member, fetchDataForAllPrograms="true")["mainPoints"]
    by_day: dict[str, dict[tuple[int, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for entry in entries:
        day = entry.get("redeemableFromISO", entry["redeemableFrom"])[:10]
        by_day[day][(int(entry["programId"]), entry["pointsType"])] += entry["points"]
    days = page.select("#timeline-table tbody.timeline-day")
    assert [d["data-date"] for d in days] == sorted(by_day)
    running = available
    for day in days:
        groups = by_day[day["data-date"]]
        lines = [
            (
                int(r.select_one(".timeline-program")["data-program-id"]),
                decimal_text(r.select_one(".timeline-points").get_text()),
            )
            for r in day.select("tr")
        ]
        assert [program for program, _ in lines] == sorted(program for program, _ in lines)
        assert sorted(points for _, points in lines) == sorted(groups.values())
        running += sum(groups.values())
        assert decimal_text(day.select_one(".timeline-day-total").get_text()) == sum(
            groups.values()
        )
        assert decimal_text(day.select_one(".timeline-projected").get_text()) == running
    total = sum((e["points"] for e in entries), Decimal(0))
    assert decimal_text(page.select_one("#timeline-total").get_text()) == total


def test_chart_has_one_bar_per_date_matching_the_table(client, upstream):
    page = open_member(client, upstream, demo.MEMBER_MULTI_PROGRAM, program="all")
    bars = page.select("#timeline-chart svg rect.bar")
    days = page.select("#timeline-table tbody.timeline-day")
    assert len(bars) == len(days) > 1
    for bar, day in zip(bars, days, strict=True):
        assert bar["data-date"] == day["data-date"]
        assert Decimal(bar["data-points"]) == decimal_text(
            day.select_one(".timeline-day-total").get_text()
        )
    heights = [float(b["height"]) for b in bars]
    tallest = max(range(len(bars)), key=lambda i: Decimal(bars[i]["data-points"]))
    assert heights[tallest] == max(heights)


def test_timeline_shows_the_upstream_offset_and_the_display_zone(make_client, upstream):
    client = make_client(DISPLAY_TIMEZONE="Europe/London")
    page = open_member(client, upstream, demo.MEMBER_MULTI_PROGRAM, program="all")
    first_date = page.select_one("#timeline-table .timeline-date")
    assert "UTC+05:30" in first_date.select_one(".zone").get_text()
    display = first_date.select_one(".display-zone").get_text()
    assert "GMT" in display or "BST" in display
    assert page.select_one("#as-of").get_text().endswith(("(GMT, UTC)", "(BST, UTC+01:00)"))


def test_documented_schedule_member_in_legacy_date_format(client, upstream):
    # The documented 2022 dates have passed: past due, not "next", and not in the timeline.
    page = open_member(client, upstream, demo.MEMBER_DOC_SCHEDULE, program="2199")
    (line,) = page.select("#past-due .past-due-line")
    assert line["data-date"] == "2022-04-10" and line["data-program-id"] == "2199"
    assert normalize_spaces(line.get_text()) == (
        "520 points in Gold Club (2199): due on 10 Apr 2022 (IST, UTC+05:30), "
        "not converted yet: check with the program team."
    )
    assert page.select_one("#timeline-table") is None
    assert page.select_one("#timeline-empty") is not None
    assert normalize_spaces(page.select_one("#answer-next").get_text()) == (
        "No promised points have a date to come; some are past due (below)."
    )


def test_trigger_based_points_are_listed_without_a_date(client, upstream):
    page = open_member(client, upstream, demo.MEMBER_DOC_TRIGGER, program="all")
    rows = page.select("#triggers-table tbody tr")
    assert len(rows) == 1
    cells = [normalize_spaces(td.get_text()) for td in rows[0].select("td")]
    assert cells == ["Fuel Rewards (890)", "Line item, promotion", "300"]
    assert "no date" in page.select_one("#triggers .section-explanation").get_text()
    assert page.select_one("#timeline-empty") is not None


@pytest.mark.parametrize(
    ("program", "waiting"), [("all", "300"), ("890", "300"), ("2199", None), (None, None)]
)
def test_points_waiting_for_an_event_are_said_in_the_answer(client, upstream, program, waiting):
    """Only trigger-based points pending: the answer says they wait, never "no date to come"."""
    query = {"program": program} if program else {}
    page = open_member(client, upstream, demo.MEMBER_DOC_TRIGGER, **query)
    line = page.select_one("#answer #answer-waiting")
    if waiting is None:
        assert line is None
        assert normalize_spaces(page.select_one("#answer-next").get_text()) == (
            "No promised points have a date to come."
        )
        return
    assert normalize_spaces(line.get_text()) == f"{waiting} points wait for an event (no date)."
    assert page.select_one("#answer #answer-next") is None
    assert normalize_spaces(page.select_one("#answer-pending dd").get_text()) == (
        f"{waiting} points"
    )


def test_empty_states_say_what_is_empty(client, upstream):
    page = open_member(client, upstream, demo.MEMBER_DOC_BALANCE)
    assert "No promised points" in page.select_one("#timeline-empty").get_text()
    assert "No points are waiting" in page.select_one("#triggers-empty").get_text()
    # Problems only when there are some: no empty warnings box.
    assert page.select_one("#warnings") is None and page.select_one("#failures") is None
    assert tile(page, "available") == Decimal("8500")
    assert page.select_one("#tile-available .tile-value").get_text() == "8,500"


def test_upstream_warnings_are_explained_with_their_codes(client, upstream):
    with warnings_of(upstream, demo.MEMBER_WARNINGS, MERGED_WARNING, LABEL_WARNING):
        page = open_member(client, upstream, demo.MEMBER_WARNINGS, program="all")
    notices = page.select("#warnings .notice")
    codes = sorted(n.select_one(".notice-code").get_text() for n in notices)
    assert codes == ["Code 8069", "Code 8107"]
    text = normalize_spaces(page.select_one("#warnings").get_text())
    assert "Merged customer found" in text
    assert "Default customer status label not set" in text


def test_date_range_filters_the_timeline(client, upstream):
    member = demo.MEMBER_LARGE_SCHEDULE
    start = frozen_today() + timedelta(days=30)
    end = start + timedelta(days=60)
    page = open_member(
        client,
        upstream,
        member,
        program="all",
        **{"from": start.isoformat(), "to": end.isoformat()},
    )
    sent = [e.query for e in upstream.request_log() if e.kind == "schedule"]
    assert sent[0]["startDate"] == start.isoformat() and sent[0]["endDate"] == end.isoformat()
    dates = [d["data-date"] for d in page.select("#timeline-table tbody.timeline-day")]
    assert dates and all(start.isoformat() <= d <= end.isoformat() for d in dates)


# --- when things go wrong ----------------------------------------------------------------


def test_member_not_found_returns_to_the_form_with_the_value_kept(client, upstream):
    response = post_lookup(client, identifier_type="email", identifier="nobody@example.com")
    assert response.status_code == 404
    page = soup(response)
    # Said once: in the failure notice, not again at the field and in a summary box.
    assert normalize_spaces(page.select_one("#lookup-failure .notice-explanation").get_text()) == (
        "No member has this email address."
    )
    assert page.select_one("#identifier-error") is None
    assert page.select_one(".error-summary") is None
    assert page.select_one("#identifier")["value"] == "nobody@example.com"
    assert "8015" in page.select_one("#lookup-failure .notice-code").get_text()
    assert page.select_one("#lookup-failure .notice-request-id") is not None


def test_unknown_customer_id_deep_link_is_a_404_with_the_form(client, upstream):
    response = client.get("/members/123456789")
    assert response.status_code == 404
    page = soup(response)
    assert page.select_one("#identifier")["value"] == "123456789"
    assert page.select_one("#identifier_type option[selected]")["value"] == "customer_id"


def test_program_unknown_upstream_points_at_the_program_field(make_client, upstream):
    programs = {**sandbox_config(upstream)["CAPILLARY_PROGRAMS"], 5555: "Closed Program"}
    client = make_client(CAPILLARY_PROGRAMS=programs)
    response = post_lookup(client, identifier="919800000001", program="5555")
    assert response.status_code == 400
    page = soup(response)
    assert "does not know this program" in page.select_one("#program-error").get_text()
    assert "885" in page.select_one("#lookup-failure").get_text()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"program": "9999"}, "not one Points Desk knows"),
        ({"program": "abc"}, "not a program id"),
    ],
)
def test_bad_deep_link_parameters_are_a_clear_400(client, upstream, query, message):
    response = client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}", query_string=query)
    assert response.status_code == 400
    assert message in soup(response).select_one("#bad-link-message").get_text()
    assert upstream.request_log() == []


def test_partial_failure_shows_what_succeeded_and_a_banner(client, upstream):
    member = demo.MEMBER_SCHEDULE_FAILS
    page = open_member(client, upstream, member, program="all")
    expected = balance(upstream, member, fetchDataForAllPrograms="true")
    assert tile(page, "available") == expected["mainPoints"]
    banner = page.select_one("#failures")
    assert "timeline is missing" in banner.get_text()
    assert "Code 500" in banner.select_one(".notice-code").get_text()
    assert banner.select_one(".notice-request-id").get_text().startswith("Request id ")
    assert len(page.select("#programs-table tbody tr")) == 3


def test_upstream_unavailable_gives_a_502_with_the_form(client, upstream):
    upstream.configure(fault="unavailable")
    response = post_lookup(client, identifier="919800000001")
    assert response.status_code == 502
    page = soup(response)
    assert "temporarily unavailable" in page.select_one("#lookup-failure").get_text()
    assert page.select_one("#identifier")["value"] == "919800000001"


def test_upstream_timeout_gives_a_504(make_client, upstream):
    upstream.configure(fault="slow", slow_seconds=3)
    client = make_client(
        CAPILLARY_READ_TIMEOUT=0.3, CAPILLARY_CALL_DEADLINE=1.0, CAPILLARY_RETRIES=0
    )
    response = client.get(f"/members/{demo.MEMBER_MULTI_PROGRAM}")
    assert response.status_code == 504
    assert "took too long" in soup(response).select_one("#lookup-failure").get_text()


def test_a_configured_program_the_upstream_refuses_is_only_a_missing_row(make_client, upstream):
    programs = {**sandbox_config(upstream)["CAPILLARY_PROGRAMS"], 5555: "Closed Program"}
    client = make_client(CAPILLARY_PROGRAMS=programs)
    response = post_lookup(client, identifier="919800000001", program="all")
    assert response.status_code == 302
    page = soup(client.get(response.location))
    row = page.select_one('#programs-table tr[data-program-id="5555"]')
    assert "does not exist" in row.get_text()
    assert "Closed Program (5555)" in page.select_one("#failures").get_text()
    assert (
        tile(page, "available")
        == balance(upstream, demo.MEMBER_MULTI_PROGRAM, fetchDataForAllPrograms="true")[
            "mainPoints"
        ]
    )


def test_the_member_page_has_a_search_box_for_the_next_caller(client, upstream):
    first = client.post(
        "/lookup", data={"identifier_type": "auto", "identifier": "919800000001", "program": "all"}
    )
    page = soup(client.get(first.location))
    form = page.select_one("#next-caller form#next-caller-form")
    assert form["method"] == "post" and form["action"] == "/lookup"
    box = form.select_one("input#next-identifier[name=identifier]")
    assert box is not None and not box.get("value")  # nothing of this caller in it
    assert form.select_one("label[for=next-identifier]").get_text() == "Identifier"
    # The program the agent chose last; ids never clash with the page's own view form.
    assert form.select_one("#next-program option[selected]")["value"] == "all"
    ids = [tag["id"] for tag in page.select("[id]")]
    assert len(ids) == len(set(ids))
    # It works as the lookup form does.
    fields = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    nxt = client.post("/lookup", data={**fields, "identifier": "EXT-1005", "program": "all"})
    assert nxt.status_code == 302 and nxt.location.startswith("/members/700000005")


@pytest.mark.parametrize("fault", ["error", "unavailable"])
def test_an_outage_for_a_member_not_seen_before_says_when_what_and_offers_try_again(
    client, upstream, fault
):
    upstream.configure(fault=fault)
    response = client.post(
        "/lookup", data={"identifier_type": "auto", "identifier": "EXT-1003", "program": "all"}
    )
    assert response.status_code in (502, 503)
    page = soup(response)
    notice = page.select_one("#lookup-failure")
    assert notice.select_one(".notice-title").get_text().startswith("The loyalty system")
    assert normalize_spaces(notice.select_one("#failed-parts").get_text()) == (
        "What failed: the points balance, the balances per program and the promised-points "
        "timeline."
    )
    at = normalize_spaces(notice.select_one("#failed-at").get_text())
    # In the viewer's zone (none chosen here: UTC), to the second, zone said.
    assert re.fullmatch(r"At \d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d \(UTC\)", at), at
    assert notice.select_one(".notice-request-id").get_text().startswith("Request id ")
    again = notice.select_one("button#try-again")
    assert again["type"] == "submit" and again["form"] == "lookup-form"
    # The form it submits still holds what was typed; no "Capillary" anywhere in the notice.
    assert page.select_one("form#lookup-form input#identifier")["value"] == "EXT-1003"
    assert "Capillary" not in notice.get_text()


def test_slow_is_not_not_found_and_the_slow_kind_can_be_tried_alone(make_client, upstream):
    # Each call takes more than half the page's time: the second reading cannot fit (margins
    # of 0.7 s either way, so a busy machine does not change the outcome).
    client = make_client(LOOKUP_DEADLINE=1.8)
    upstream.configure(latency=1.0)
    typed = {"identifier_type": "auto", "identifier": "EXT-1005", "program": "all"}
    response = client.post("/lookup", data=typed)
    assert response.status_code == 504
    page = soup(response)
    title = normalize_spaces(page.select_one("#lookup-failure .notice-title").get_text())
    assert title == "Not found as a card number; the external id check took too long"
    assert "Member not found" not in page.get_text()
    retry = page.select_one("form#retry-kind-form")
    fields = {i["name"]: i.get("value", "") for i in retry.select("input[type=hidden]")}
    assert fields["identifier_type"] == "externalId" and fields["identifier"] == "EXT-1005"
    assert retry.select_one("button#retry-kind").get_text() == "Try again as external id"
    # One click: the external id alone, which fits the page's time.
    found = client.post("/lookup", data=fields)
    assert found.status_code == 302 and found.location.startswith("/members/700000005")
