"""The sandbox org's programs and its member catalogue (deterministic demo data).

Every member has four identifiers (mobile, email, externalId, cardnumber). Points are Decimal.
Balances are never stored: they are derived from each member's main points, dated schedule
entries and trigger entries, so balance and schedule always agree:
delayedAccrual = sum of dated entries, externalTrigger = sum of trigger entries,
promised = delayed + trigger, total = main + promised (per program; summed for all programs).

Members (id, mobile, email, externalId, cardnumber; then what each shows):

565039505  919800000010  doc.balance@example.com       EXT-DOC-1  CARD-DOC-1
    the documented balance: 8500.000 main points in 2199 (default), nothing anywhere else.
374844123  917752198768  doc.schedule@example.com      EXT-DOC-2  CARD-DOC-2
    the documented schedule: 390.000 + 130.000 on 2022-04-10 in 2199, no ISO field; with all
    programs also 300.000 (2022-04-08) and 75.500 (2022-05-02) in 1933; main 1200.000 / 450.250.
342249069  915795008349  tomswayer@capillarytech1.com  EXT-DOC-3  CARD-DOC-3
    documented trigger: 300.000 line_item_promotions in 890; main 150.000 (2199), 2000.000 (890).
700000001  919800000001  asha.rao@example.com          EXT-1001   CARD-1001
    all three named programs with different balances; future entries incl. 12.500, 62.500,
    7.125; triggers 100.000 (2199) and 25.000 (890).
700000002  919800000002  vikram.iyer@example.com       EXT-1002   CARD-1002
    480 generated entries over ~18 months ahead, all five pointsTypes, 2199/1933/890; triggers.
700000003  919800000003  meera.nair@example.com        EXT-1003   CARD-1003
    balance and schedule both answer 200 with warnings 8069 and 8107.
700000004  919800000004  rohan.das@example.com         EXT-1004   CARD-1004
    balance works (promised 60.000); every schedule call fails: HTTP 500 "All requests have failed".
700000005  919800000005  leela.menon@example.com       EXT-1005   CARD-1005
    also has points in 4242 (Legacy Club), so the named-program sum differs from all programs.

Members that each show one documented shape of capillary-api.md section 7 (SHAPE_MEMBERS,
kept apart from DEMO_MEMBERS, whose answers are all of the regular shape). Their mobiles
follow the same 9198000000xx pattern; 700000010 is skipped, as 919800000010 is the
documented balance member's mobile.

700000006  balance answers warning 91001 with zero figures (the member has 640.000 in 2199).
700000007  balance without promisedPoints (the lookup page's field table omits it).
700000008  points written as JSON integers (the OpenAPI's int typing).
700000009  a negative schedule entry (-40, as the documented group schedule example shows).
700000011  points written as quoted strings ("350.000", as the ledger API writes them).
700000012  warning 8069 "Merged customer found" inside errors[], with the data present.
700000013  schedule refused in the documented text form: HTTP 403 ... errorCode=4000.
700000014  every call refused with JSON errorCode 4000 / errorMessage (HTTP 403).
700000015  every call answered by a CDN's 522 HTML page.
700000016  schedule answered by a CDN's 524 HTML page; the balance works.
700000017  every call answered by a CDN's 403 HTML block page.
700000018  balance answered 200 with an HTML body; the schedule works.
700000019  dual eligibility: found by the mobile (the primary identifier), by id, or by a
           list that holds the mobile; any other identifier alone answers 8015.
700000020  schedule refuses a past startDate or endDate with 1215.

Any other id or identifier answers 8015.

Dates of the non-documented members are relative to the day the sandbox starts (``today``);
app/sandbox/seed.py builds them (``build_members``) from the catalogue here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# What the dashboard's config names (CAPILLARY_PROGRAMS) when the sandbox is embedded.
DEMO_PROGRAMS: dict[int, str] = {2199: "Gold Club", 1933: "Partner Rewards", 890: "Fuel Rewards"}
DEFAULT_PROGRAM = 2199
# The org also has a program the dashboard is not told about, so that "sum of the named
# programs" and "all programs of the org" differ for a member who has points there.
LEGACY_PROGRAM = 4242
ORG_PROGRAMS: dict[int, str] = {**DEMO_PROGRAMS, LEGACY_PROGRAM: "Legacy Club"}

POINTS_TYPES = (
    "bill_regular",
    "bill_promotions",
    "line_item_regular",
    "line_item_promotions",
    "customer_promotions",
)
IDENTIFIER_KINDS = ("mobile", "email", "externalId", "cardnumber")
CLUSTER_TIMEZONE = "Asia/Kolkata"

MEMBER_DOC_BALANCE = 565039505
MEMBER_DOC_SCHEDULE = 374844123
MEMBER_DOC_TRIGGER = 342249069
MEMBER_MULTI_PROGRAM = 700000001
MEMBER_LARGE_SCHEDULE = 700000002
MEMBER_WARNINGS = 700000003
MEMBER_SCHEDULE_FAILS = 700000004
MEMBER_LEGACY_PROGRAM = 700000005
# The documented shapes of capillary-api.md section 7, one member each.
MEMBER_POINTS_NOT_FETCHED = 700000006
MEMBER_NO_PROMISED_FIELD = 700000007
MEMBER_INTEGER_POINTS = 700000008
MEMBER_NEGATIVE_POINTS = 700000009
MEMBER_STRING_POINTS = 700000011
MEMBER_WARNING_IN_ERRORS = 700000012
MEMBER_DENIED_TEXT = 700000013
MEMBER_DENIED_JSON = 700000014
MEMBER_CDN_522 = 700000015
MEMBER_CDN_524 = 700000016
MEMBER_CDN_BLOCKED = 700000017
MEMBER_HTML_200 = 700000018
MEMBER_DUAL_ELIGIBILITY = 700000019
MEMBER_PAST_DATE_REFUSED = 700000020

# Seed of the generated schedule: fixed so the data is the same on every start of a given day.
LARGE_SCHEDULE_SEED = 20240601
LARGE_SCHEDULE_SIZE = 480
LARGE_SCHEDULE_DAYS = 548  # about 18 months

WARNING_POINT_DETAILS = {"status": False, "code": 91001, "message": "Failed to get point details"}
WARNING_STATUS_LABEL = {
    "status": False,
    "code": 8107,
    "message": "Default customer status label not set",
}
# A warning code (8050-8090 are warnings, capillary-api.md 7.1) sent inside errors[].
WARNING_MERGED_CUSTOMER = {"status": False, "code": 8069, "message": "Merged customer found"}

# How a member's points numbers are written in its answers.
POINTS_STYLES = ("decimal", "integer", "string")


@dataclass(frozen=True, slots=True)
class DemoMember:
    """A seeded member's id, identifiers and what it is for (static, for docs and tests)."""

    id: int
    name: str
    mobile: str
    email: str
    external_id: str
    card_number: str
    shows: str

    @property
    def identifiers(self) -> dict[str, str]:
        """identifierName -> identifierValue, in the names the lookup endpoints use."""
        return {
            "mobile": self.mobile,
            "email": self.email,
            "externalId": self.external_id,
            "cardnumber": self.card_number,
        }


DEMO_MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(
        MEMBER_DOC_BALANCE,
        "Documented balance",
        "919800000010",
        "doc.balance@example.com",
        "EXT-DOC-1",
        "CARD-DOC-1",
        "The documented balance example: 8500.000 main points in 2199, nothing promised.",
    ),
    DemoMember(
        MEMBER_DOC_SCHEDULE,
        "Documented schedule",
        "917752198768",
        "doc.schedule@example.com",
        "EXT-DOC-2",
        "CARD-DOC-2",
        "The documented schedule example (2022 dates, no ISO field); more entries in 1933.",
    ),
    DemoMember(
        MEMBER_DOC_TRIGGER,
        "Documented trigger",
        "915795008349",
        "tomswayer@capillarytech1.com",
        "EXT-DOC-3",
        "CARD-DOC-3",
        "The documented trigger example: 300.000 trigger-based points in 890.",
    ),
    DemoMember(
        MEMBER_MULTI_PROGRAM,
        "Asha Rao",
        "919800000001",
        "asha.rao@example.com",
        "EXT-1001",
        "CARD-1001",
        "Different balances in all three named programs, future entries, fractions, triggers.",
    ),
    DemoMember(
        MEMBER_LARGE_SCHEDULE,
        "Vikram Iyer",
        "919800000002",
        "vikram.iyer@example.com",
        "EXT-1002",
        "CARD-1002",
        "480 generated schedule entries over ~18 months, all points types, three programs.",
    ),
    DemoMember(
        MEMBER_WARNINGS,
        "Meera Nair",
        "919800000003",
        "meera.nair@example.com",
        "EXT-1003",
        "CARD-1003",
        "Balance and schedule answer with warnings 8069 and 8107 (figures stand).",
    ),
    DemoMember(
        MEMBER_SCHEDULE_FAILS,
        "Rohan Das",
        "919800000004",
        "rohan.das@example.com",
        "EXT-1004",
        "CARD-1004",
        "Balance works; every schedule call fails with HTTP 500 (partial failure).",
    ),
    DemoMember(
        MEMBER_LEGACY_PROGRAM,
        "Leela Menon",
        "919800000005",
        "leela.menon@example.com",
        "EXT-1005",
        "CARD-1005",
        "Also has points in 4242 (Legacy Club): named-program sum differs from all-programs.",
    ),
)


def _shape_member(member_id: int, name: str, shows: str) -> DemoMember:
    """A shape member's identifiers, from its id (700000006 -> 919800000006, EXT-1006...)."""
    n = member_id - 700000000
    first, last = name.lower().split()
    return DemoMember(
        member_id,
        name,
        f"9198000000{n:02d}",
        f"{first}.{last}@example.com",
        f"EXT-{1000 + n}",
        f"CARD-{1000 + n}",
        shows,
    )


SHAPE_MEMBERS: tuple[DemoMember, ...] = (
    _shape_member(
        MEMBER_POINTS_NOT_FETCHED,
        "Lata Krishnan",
        "Balance answers warning 91001 with zero figures; the member really has 640 points.",
    ),
    _shape_member(
        MEMBER_NO_PROMISED_FIELD,
        "Arjun Mehta",
        "Balance without promisedPoints (promised = delayed + trigger = 150).",
    ),
    _shape_member(
        MEMBER_INTEGER_POINTS, "Deepa Shetty", "Points written as JSON integers (2340, 300)."
    ),
    _shape_member(
        MEMBER_NEGATIVE_POINTS, "Farhan Ali", "A negative schedule entry (-40) beside a 100."
    ),
    _shape_member(
        MEMBER_STRING_POINTS, "Nisha Kapoor", 'Points written as quoted strings ("350.000").'
    ),
    _shape_member(
        MEMBER_WARNING_IN_ERRORS,
        "Suresh Batra",
        "Warning 8069 (merged customer) inside errors[], with the data present.",
    ),
    _shape_member(
        MEMBER_DENIED_TEXT,
        "Pooja Reddy",
        "Schedule refused in the documented text form (HTTP 403, errorCode=4000).",
    ),
    _shape_member(
        MEMBER_DENIED_JSON,
        "Rahul Verma",
        "Every call refused with JSON errorCode 4000 and errorMessage (HTTP 403).",
    ),
    _shape_member(MEMBER_CDN_522, "Ananya Bose", "Every call answered by a CDN's 522 HTML page."),
    _shape_member(
        MEMBER_CDN_524,
        "Vivek Joshi",
        "Schedule answered by a CDN's 524 HTML page; the balance works.",
    ),
    _shape_member(
        MEMBER_CDN_BLOCKED, "Isha Malhotra", "Every call answered by a CDN's 403 HTML block page."
    ),
    _shape_member(
        MEMBER_HTML_200,
        "Karan Singh",
        "Balance answered 200 with an HTML body; the schedule works.",
    ),
    _shape_member(
        MEMBER_DUAL_ELIGIBILITY,
        "Sneha Kulkarni",
        "Dual eligibility: only the mobile (primary) finds her; email alone answers 8015.",
    ),
    _shape_member(
        MEMBER_PAST_DATE_REFUSED,
        "Manoj Nair",
        "Schedule refuses a past startDate or endDate with 1215.",
    ),
)
ALL_MEMBERS: tuple[DemoMember, ...] = DEMO_MEMBERS + SHAPE_MEMBERS
DEMO_MEMBERS_BY_ID: dict[int, DemoMember] = {m.id: m for m in ALL_MEMBERS}


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    """A dated promised-points entry of the seed data."""

    points: Decimal
    redeemable_from: date
    program_id: int
    points_type: str


@dataclass(frozen=True, slots=True)
class TriggerItem:
    """A trigger-based promised-points entry of the seed data (no date)."""

    points: Decimal
    program_id: int
    points_type: str


@dataclass(frozen=True, slots=True)
class Member:
    """A member's full points picture; balances are derived from it, never stored."""

    info: DemoMember
    main_points: dict[int, Decimal]
    # Kept in the order the upstream would send it: deliberately not sorted.
    schedule: tuple[ScheduleItem, ...] = ()
    triggers: tuple[TriggerItem, ...] = ()
    # The documented examples carry only the deprecated date-only field.
    iso_dates: bool = True
    balance_warnings: tuple[dict[str, object], ...] = ()
    schedule_warnings: tuple[dict[str, object], ...] = ()
    schedule_fails: bool = False
    # The documented shapes of capillary-api.md section 7 (the shape members only).
    # A fault mode's canned answer (app/sandbox/faults.py) given instead of the body.
    balance_answer: str | None = None
    schedule_answer: str | None = None
    # Zero figures (sent with warning 91001: the points were not fetched).
    balance_zeroed: bool = False
    # The lookup page's field table omits promisedPoints.
    promised_field: bool = True
    points_style: str = "decimal"
    # Entries sent in errors[] beside the data (both endpoints).
    errors_with_data: tuple[dict[str, object], ...] = ()
    # Dual eligibility: only the org's primary identifier finds this member on its own.
    primary_only: bool = False
    # The older docs' reading: a past startDate/endDate is refused with 1215.
    refuses_past_dates: bool = False

    @property
    def id(self) -> int:
        """The member's Capillary customer id (entityId)."""
        return self.info.id


@dataclass(frozen=True, slots=True)
class ProgramBalance:
    """A balance for one program or the sum over several."""

    main: Decimal
    delayed_accrual: Decimal
    external_trigger: Decimal

    @property
    def promised(self) -> Decimal:
        """Points not yet redeemable."""
        return self.delayed_accrual + self.external_trigger

    @property
    def total(self) -> Decimal:
        """Main plus promised points."""
        return self.main + self.promised


def balance_for(member: Member, program_ids: tuple[int, ...]) -> ProgramBalance:
    """Derive the balance over the given programs from the member's entries."""
    zero = Decimal("0.000")
    main = sum((member.main_points.get(p, zero) for p in program_ids), zero)
    delayed = sum((e.points for e in member.schedule if e.program_id in program_ids), zero)
    trigger = sum((t.points for t in member.triggers if t.program_id in program_ids), zero)
    return ProgramBalance(main=main, delayed_accrual=delayed, external_trigger=trigger)
