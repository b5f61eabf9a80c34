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
    balance and schedule both answer 200 with warnings 91001 and 8107.
700000004  919800000004  rohan.das@example.com         EXT-1004   CARD-1004
    balance works (promised 60.000); every schedule call fails: HTTP 500 "All requests have failed".
700000005  919800000005  leela.menon@example.com       EXT-1005   CARD-1005
    also has points in 4242 (Legacy Club), so the named-program sum differs from all programs.

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
        "Balance and schedule answer with warnings 91001 and 8107.",
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
DEMO_MEMBERS_BY_ID: dict[int, DemoMember] = {m.id: m for m in DEMO_MEMBERS}


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
