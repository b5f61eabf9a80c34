"""Units of the lookup feature that need no HTTP: cleaning, scope parsing, figures, formats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.capillary import Balance, PromisedSchedule, ScheduleEntry, TriggerEntry
from app.capillary.errors import UpstreamUnavailable
from app.formatting import format_datetime, format_points, zone_label
from app.lookup import identifiers
from app.lookup.fetching.outcome import MemberData, Outcome
from app.lookup.fetching.plan import plan_calls
from app.lookup.fetching.scope import ALL, DEFAULT, InvalidParameters, LookupParams
from app.lookup.page.chart import build_chart
from app.lookup.page.model import build_page
from app.lookup.page.timeline import build_timeline, points_type_label
from tests.conftest import frozen_today

IST = timezone(timedelta(hours=5, minutes=30))
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PROGRAMS = {2199: "Gold Club", 1933: "Partner Rewards"}


def entry(points: str, when: str, program: int = 2199, kind: str = "bill_regular"):
    return ScheduleEntry(Decimal(points), datetime.fromisoformat(when), program, kind)


def balance(main: str, delayed: str = "0", trigger: str = "0", entity: int = 7) -> Balance:
    promised = Decimal(delayed) + Decimal(trigger)
    return Balance(
        entity,
        "CUSTOMER",
        Decimal(main) + promised,
        Decimal(main),
        promised,
        Decimal(delayed),
        Decimal(trigger),
    )


@pytest.mark.parametrize(
    ("kind", "typed", "clean"),
    [
        ("mobile", " +91 (98) 000-00001 ", "919800000001"),
        ("mobile", "98.00.00.00.01", "9800000001"),
        ("email", " a.b+c@example.co.uk ", "a.b+c@example.co.uk"),
        ("customer_id", "  00565039505 ", "565039505"),
        ("externalId", " EXT-1 ", "EXT-1"),
    ],
)
def test_identifiers_are_cleaned(kind, typed, clean):
    assert identifiers.clean(kind, typed) == clean


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("mobile", "12345"),
        ("mobile", "٩١٩٨٠٠٠٠٠٠٠١"),  # Arabic-Indic digits are digits, but not ASCII
        ("email", "a@b"),
        ("customer_id", "1.5"),
        ("customer_id", str(2**63)),
        ("externalId", "x\u202eevil"),
        ("externalId", "line\r\nbreak"),
        ("externalId", "nul\x00"),
        ("cardnumber", "x" * 101),
        ("passport", "A123"),
    ],
)
def test_impossible_identifiers_are_refused(kind, typed):
    with pytest.raises(identifiers.InvalidIdentifier):
        identifiers.clean(kind, typed)


def test_mask_hides_at_least_two_thirds():
    assert identifiers.mask("919800000001") == "••••••••0001"
    assert identifiers.mask("abc") == "••c"
    assert identifiers.mask("ab") == "••"


def test_deep_link_params_round_trip():
    params = LookupParams(ALL, date(2027, 1, 1), date(2027, 3, 1))
    query = params.to_query()
    assert query == {"program": "all", "from": "2027-01-01", "to": "2027-03-01"}
    assert LookupParams.from_query(query, PROGRAMS, 2199, date(2026, 11, 21)) == params


def test_missing_program_means_the_configured_default_or_the_upstream_default():
    assert LookupParams.from_query({}, PROGRAMS, 2199, frozen_today()).program == 2199
    assert LookupParams.from_query({}, PROGRAMS, None, frozen_today()).program == DEFAULT


def test_deep_link_rejects_unknown_program():
    with pytest.raises(InvalidParameters):
        LookupParams.from_query({"program": "1"}, PROGRAMS, None, frozen_today())


def test_plan_shares_the_scope_balance_with_its_program_row():
    plan = plan_calls(LookupParams(2199), PROGRAMS)
    assert plan.scope_balance is plan.program_balances[2199]
    # Two program balances, the schedule, customer details and the expiry schedule.
    assert len(plan.calls) == 5
    assert [call.kind for call in plan.calls[-2:]] == ["customer", "expiry"]
    plan = plan_calls(LookupParams(ALL), PROGRAMS)
    assert plan.scope_balance.all_programs and len(plan.calls) == 6
    # Without the member story's calls (LOOKUP_MEMBER_DETAILS and LOOKUP_EXPIRY off).
    assert len(plan_calls(LookupParams(2199), PROGRAMS, who=False, expiry=False).calls) == 3
    plan = plan_calls(LookupParams(DEFAULT), PROGRAMS)
    assert plan.scope_balance.program_id is None and not plan.scope_balance.all_programs


def test_timeline_sorts_groups_and_projects():
    schedule = PromisedSchedule(
        7,
        "CUSTOMER",
        entries=(
            entry("5", "2027-01-02T00:00:00+05:30", 1933, "bill_promotions"),
            entry("12.5", "2027-01-01T10:00:00+05:30", 2199, "line_item_regular"),
            entry("0.25", "2027-01-01T00:00:00+05:30", 2199, "line_item_regular"),
            entry("100", "2027-01-01T00:00:00+05:30", 1933, "bill_regular"),
            # Each entry is dated in the offset the upstream sent it with (its cluster zone).
            entry("1", "2027-01-01T20:00:00+00:00", 2199, "bill_regular"),
        ),
    )
    days = build_timeline(schedule, Decimal("1000"), PROGRAMS, ZoneInfo("Europe/Paris"))
    assert [d.day for d in days] == [date(2027, 1, 1), date(2027, 1, 2)]
    first = days[0]
    assert [(line.program_id, line.points_type, line.points) for line in first.lines] == [
        (1933, "bill_regular", Decimal("100")),
        (2199, "bill_regular", Decimal("1")),
        (2199, "line_item_regular", Decimal("12.75")),
    ]
    assert first.total == Decimal("113.75")
    assert first.projected_available == Decimal("1113.75")
    assert days[1].projected_available == Decimal("1118.75")
    assert first.first_at_display.tzinfo == ZoneInfo("Europe/Paris")
    assert first.first_at_display.hour == 19 and first.first_at_display.day == 31


def test_projection_is_unknown_when_the_balance_failed():
    schedule = PromisedSchedule(7, "CUSTOMER", entries=(entry("5", "2027-01-02T00:00:00+05:30"),))
    (day,) = build_timeline(schedule, None, PROGRAMS, None)
    assert day.projected_available is None and day.total == Decimal("5")


def test_page_reports_missing_program_rows_and_the_upstream_sum_difference():
    failed = Outcome(None, UpstreamUnavailable("boom", status=503, request_id="r1"), NOW)
    data = MemberData(
        member_id=7,
        params=LookupParams(ALL),
        scope_balance=Outcome(balance("100", "10", "5"), None, NOW),
        program_balances={
            2199: Outcome(balance("60", "10"), None, NOW),
            1933: Outcome(balance("30", "0", "5"), None, NOW),
        },
        schedule=Outcome(
            PromisedSchedule(7, "CUSTOMER", triggers=(TriggerEntry(Decimal(5), 1933, "x_y"),)),
            None,
            NOW,
        ),
    )
    page = build_page(data, PROGRAMS, display_zone=None, as_of_zone=UTC, now=NOW)
    table = page.program_table
    assert table.totals.total == Decimal("105")
    assert table.all_programs_total == Decimal("115") and table.difference == Decimal("10")
    assert page.triggers[0].points_type_label == "X y"

    partial = MemberData(
        7, data.params, data.scope_balance, {**data.program_balances, 1933: failed}, data.schedule
    )
    page = build_page(partial, PROGRAMS, display_zone=None, as_of_zone=UTC, now=NOW)
    assert page.program_table.incomplete and page.program_table.difference is None
    assert page.program_table.totals.total == Decimal("70")
    (notice,) = page.failures
    assert "Partner Rewards (1933)" in notice.title and notice.request_id == "r1"


def test_points_type_labels():
    assert points_type_label("line_item_promotions") == "Line item, promotion"
    assert points_type_label("customer_promotions") == "Customer, promotion"
    assert points_type_label("new_kind") == "New kind"


def test_chart_scales_bars_to_the_largest_day():
    schedule = PromisedSchedule(
        7,
        "CUSTOMER",
        entries=(
            entry("50", "2027-01-01T00:00:00+05:30"),
            entry("200", "2027-02-01T00:00:00+05:30"),
        ),
    )
    chart = build_chart(build_timeline(schedule, Decimal(0), PROGRAMS, None))
    small, large = chart.bars
    assert large.height == pytest.approx(4 * small.height)
    assert large.y + large.height == pytest.approx(chart.plot_bottom)
    assert small.x < large.x and chart.max_points == Decimal("200")


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        ("8500.000", "en_US", "8,500"),
        ("390.500", "en_US", "390.5"),
        ("123456.000", "en_IN", "1,23,456"),
        ("0.000", "en_US", "0"),
        ("1234567.125", "de_DE", "1.234.567,125"),
    ],
)
def test_points_format_without_float_noise(app, value, locale, shown):
    with app.app_context():
        assert format_points(Decimal(value), locale) == shown
        assert format_points(None) == "—"


def test_datetimes_always_show_their_zone():
    assert zone_label(datetime(2026, 12, 16, tzinfo=IST)) == "UTC+05:30"
    kolkata = datetime(2026, 12, 16, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert format_datetime(kolkata) == "16 Dec 2026, 00:00 (IST, UTC+05:30)"
    assert format_datetime(datetime(2026, 1, 1, 9, 5, 7, tzinfo=UTC), seconds=True) == (
        "1 Jan 2026, 09:05:07 (UTC)"
    )
