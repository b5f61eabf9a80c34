"""The sandbox's seeded members, built from the catalogue in app/sandbox/data.py.

The documented members are copied from the documentation's examples (2022 dates); the others
are dated relative to ``today``, the day the sandbox starts on the app's clock.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.sandbox import data
from app.sandbox.data import (
    DEMO_MEMBERS_BY_ID,
    LARGE_SCHEDULE_DAYS,
    LARGE_SCHEDULE_SEED,
    LARGE_SCHEDULE_SIZE,
    LEGACY_PROGRAM,
    MEMBER_DOC_BALANCE,
    MEMBER_DOC_SCHEDULE,
    MEMBER_DOC_TRIGGER,
    MEMBER_LARGE_SCHEDULE,
    MEMBER_LEGACY_PROGRAM,
    MEMBER_MULTI_PROGRAM,
    MEMBER_SCHEDULE_FAILS,
    MEMBER_WARNINGS,
    POINTS_TYPES,
    WARNING_MERGED_CUSTOMER,
    WARNING_POINT_DETAILS,
    WARNING_STATUS_LABEL,
    Member,
    ScheduleItem,
    TriggerItem,
)
from app.sandbox.story_data import story_members


def _d(text: str) -> Decimal:
    return Decimal(text)


def _doc_members() -> list[Member]:
    """The three members copied from the documentation's examples."""
    april_10 = date(2022, 4, 10)
    return [
        Member(
            DEMO_MEMBERS_BY_ID[MEMBER_DOC_BALANCE],
            main_points={2199: _d("8500.000")},
            iso_dates=False,
        ),
        Member(
            DEMO_MEMBERS_BY_ID[MEMBER_DOC_SCHEDULE],
            main_points={2199: _d("1200.000"), 1933: _d("450.250")},
            # Interleaved across programs, as the documented all-programs response is.
            schedule=(
                ScheduleItem(_d("390.000"), april_10, 2199, "line_item_promotions"),
                ScheduleItem(_d("300.000"), date(2022, 4, 8), 1933, "line_item_promotions"),
                ScheduleItem(_d("130.000"), april_10, 2199, "bill_regular"),
                ScheduleItem(_d("75.500"), date(2022, 5, 2), 1933, "bill_promotions"),
            ),
            iso_dates=False,
        ),
        Member(
            DEMO_MEMBERS_BY_ID[MEMBER_DOC_TRIGGER],
            main_points={2199: _d("150.000"), 890: _d("2000.000")},
            triggers=(TriggerItem(_d("300.000"), 890, "line_item_promotions"),),
            iso_dates=False,
        ),
    ]


def _multi_program(today: date) -> Member:
    """Different balances in each named program; entries dated ahead of today."""

    def day(n: int) -> date:
        return today + timedelta(days=n)

    return Member(
        DEMO_MEMBERS_BY_ID[MEMBER_MULTI_PROGRAM],
        main_points={2199: _d("4200.000"), 1933: _d("1310.750"), 890: _d("640.000")},
        schedule=(
            ScheduleItem(_d("250.000"), day(10), 2199, "bill_regular"),
            ScheduleItem(_d("12.500"), day(5), 1933, "bill_promotions"),
            ScheduleItem(_d("40.000"), day(20), 890, "bill_regular"),
            ScheduleItem(_d("62.500"), day(40), 2199, "line_item_promotions"),
            ScheduleItem(_d("88.250"), day(75), 1933, "line_item_regular"),
            ScheduleItem(_d("15.000"), day(10), 2199, "customer_promotions"),
            ScheduleItem(_d("7.125"), day(120), 890, "line_item_promotions"),
        ),
        triggers=(
            TriggerItem(_d("100.000"), 2199, "customer_promotions"),
            TriggerItem(_d("25.000"), 890, "line_item_promotions"),
        ),
    )


def _large_schedule(today: date) -> Member:
    """Hundreds of generated entries; deterministic for a given start day."""
    rng = random.Random(LARGE_SCHEDULE_SEED)
    programs = (2199, 2199, 1933, 890)  # weighted towards the default program
    entries = []
    for i in range(LARGE_SCHEDULE_SIZE):
        # Cycle through the types first so every one of the five is certainly present.
        points_type = POINTS_TYPES[i] if i < len(POINTS_TYPES) else rng.choice(POINTS_TYPES)
        entries.append(
            ScheduleItem(
                points=Decimal(rng.randint(500, 250_000)).scaleb(-3),
                redeemable_from=today + timedelta(days=rng.randint(1, LARGE_SCHEDULE_DAYS)),
                program_id=rng.choice(programs),
                points_type=points_type,
            )
        )
    return Member(
        DEMO_MEMBERS_BY_ID[MEMBER_LARGE_SCHEDULE],
        main_points={2199: _d("15820.400"), 1933: _d("2210.000"), 890: _d("96.000")},
        schedule=tuple(entries),
        triggers=(
            TriggerItem(_d("500.000"), 2199, "bill_promotions"),
            TriggerItem(_d("42.750"), 1933, "customer_promotions"),
        ),
    )


def _other_members(today: date) -> list[Member]:
    """Warnings, the failing schedule and the legacy-program member."""

    def in_days(n: int) -> date:
        return today + timedelta(days=n)

    return [
        Member(
            DEMO_MEMBERS_BY_ID[MEMBER_WARNINGS],
            main_points={2199: _d("730.000")},
            schedule=(
                ScheduleItem(_d("45.000"), today + timedelta(days=14), 2199, "bill_regular"),
            ),
            balance_warnings=(WARNING_MERGED_CUSTOMER, WARNING_STATUS_LABEL),
            schedule_warnings=(WARNING_MERGED_CUSTOMER, WARNING_STATUS_LABEL),
        ),
        Member(
            DEMO_MEMBERS_BY_ID[MEMBER_SCHEDULE_FAILS],
            main_points={2199: _d("990.000"), 1933: _d("120.000")},
            schedule=(ScheduleItem(_d("60.000"), in_days(30), 2199, "bill_promotions"),),
            schedule_fails=True,
        ),
        Member(
            DEMO_MEMBERS_BY_ID[MEMBER_LEGACY_PROGRAM],
            main_points={2199: _d("2100.000"), 1933: _d("300.000"), LEGACY_PROGRAM: _d("5000.000")},
            schedule=(
                ScheduleItem(
                    _d("400.000"), today + timedelta(days=60), LEGACY_PROGRAM, "bill_regular"
                ),
                ScheduleItem(_d("80.000"), in_days(9), 2199, "line_item_regular"),
            ),
            triggers=(TriggerItem(_d("35.000"), LEGACY_PROGRAM, "customer_promotions"),),
        ),
    ]


def _shape_members(today: date) -> list[Member]:
    """One member per documented shape of capillary-api.md section 7."""

    def member(member_id: int, **fields: Any) -> Member:
        return Member(DEMO_MEMBERS_BY_ID[member_id], **fields)

    def entry(points: str, days: int, points_type: str = "bill_regular") -> ScheduleItem:
        return ScheduleItem(_d(points), today + timedelta(days=days), 2199, points_type)

    return [
        member(
            data.MEMBER_POINTS_NOT_FETCHED,
            main_points={2199: _d("640.000")},
            schedule=(entry("45.000", 14),),
            balance_zeroed=True,
            balance_warnings=(WARNING_POINT_DETAILS,),
        ),
        member(
            data.MEMBER_NO_PROMISED_FIELD,
            main_points={2199: _d("1500.000")},
            schedule=(entry("120.000", 21),),
            triggers=(TriggerItem(_d("30.000"), 2199, "customer_promotions"),),
            promised_field=False,
        ),
        member(
            data.MEMBER_INTEGER_POINTS,
            main_points={2199: _d("2040"), 1933: _d("500")},
            schedule=(entry("300", 12),),
            points_style="integer",
        ),
        member(
            data.MEMBER_NEGATIVE_POINTS,
            main_points={2199: _d("800.000")},
            # A reversal: the documented group schedule example carries -40.
            schedule=(entry("100.000", 8), entry("-40.000", 8, "bill_promotions")),
        ),
        member(
            data.MEMBER_STRING_POINTS,
            main_points={2199: _d("350.000")},
            schedule=(entry("33.330", 30),),
            triggers=(TriggerItem(_d("20.000"), 2199, "line_item_promotions"),),
            points_style="string",
        ),
        member(
            data.MEMBER_WARNING_IN_ERRORS,
            main_points={2199: _d("910.000")},
            schedule=(entry("55.000", 6),),
            errors_with_data=(WARNING_MERGED_CUSTOMER,),
        ),
        member(
            data.MEMBER_DENIED_TEXT,
            main_points={2199: _d("1250.000")},
            schedule=(entry("75.000", 9),),
            schedule_answer="access-denied",
        ),
        member(
            data.MEMBER_DENIED_JSON,
            main_points={2199: _d("430.000")},
            balance_answer="access-denied-json",
            schedule_answer="access-denied-json",
        ),
        member(
            data.MEMBER_CDN_522,
            main_points={2199: _d("2600.000")},
            balance_answer="cdn-522",
            schedule_answer="cdn-522",
        ),
        member(
            data.MEMBER_CDN_524,
            main_points={2199: _d("3100.000")},
            schedule=(entry("90.000", 11),),
            schedule_answer="cdn-524",
        ),
        member(
            data.MEMBER_CDN_BLOCKED,
            main_points={2199: _d("720.000")},
            balance_answer="cdn-blocked",
            schedule_answer="cdn-blocked",
        ),
        member(
            data.MEMBER_HTML_200,
            main_points={2199: _d("1830.000")},
            schedule=(entry("64.000", 15),),
            balance_answer="html-200",
        ),
        member(
            data.MEMBER_DUAL_ELIGIBILITY,
            main_points={2199: _d("1120.000")},
            schedule=(entry("40.000", 18),),
            primary_only=True,
        ),
        member(
            data.MEMBER_PAST_DATE_REFUSED,
            main_points={2199: _d("990.000")},
            schedule=(entry("70.000", 25),),
            refuses_past_dates=True,
        ),
    ]


def build_members(today: date) -> dict[int, Member]:
    """All seeded members by id, with relative dates counted from ``today``."""
    members = [
        *_doc_members(),
        _multi_program(today),
        _large_schedule(today),
        *_other_members(today),
        *_shape_members(today),
        *story_members(today),
    ]
    return {m.id: m for m in members}
