"""The sandbox's member stories: each member's name and tier per program, upcoming point
expiries and points ledger (capillary-api.md 7.3), and five demo members made for them.

Members added for the stories (id, mobile, email, externalId, cardnumber; what each shows):

700000021  919800000021  kavya.pillai@example.com   EXT-1021  CARD-1021
    Gold tier in Gold Club ending in 5 days (next: Platinum).
700000022  919800000022  nikhil.bose@example.com    EXT-1022  CARD-1022
    200.000 points in Gold Club expiring in 7 days (fixed), more later (rolling).
700000023  919800000023  farah.khan@example.com     EXT-1023  CARD-1023
    a long ledger: 45 events over 55 days (5 pages of 10), with 11002 "pending events".
700000024  919800000024  sanjay.gupta@example.com   EXT-1024  CARD-1024
    every points-expiry call fails (HTTP 500); name, tier and figures answer.
700000025  919800000025  divya.menon@example.com    EXT-1025  CARD-1025
    under dual eligibility: the expiry API refuses, as the docs say it does not work then.

Every other member has a name and tiers too, and a short ledger; dates count from ``today``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.sandbox.data import CLUSTER_TIMEZONE, DemoMember, Member, ScheduleItem, TriggerItem

MEMBER_TIER_ENDING = 700000021
MEMBER_EXPIRING_SOON = 700000022
MEMBER_LONG_LEDGER = 700000023
MEMBER_EXPIRY_FAILS = 700000024
MEMBER_DUAL_ELIGIBILITY = 700000025

LONG_LEDGER_EVENTS = 45
ZONE = ZoneInfo(CLUSTER_TIMEZONE)

STORY_MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(
        MEMBER_TIER_ENDING,
        "Kavya Pillai",
        "919800000021",
        "kavya.pillai@example.com",
        "EXT-1021",
        "CARD-1021",
        "Gold tier in Gold Club ends in 5 days (next: Platinum).",
    ),
    DemoMember(
        MEMBER_EXPIRING_SOON,
        "Nikhil Bose",
        "919800000022",
        "nikhil.bose@example.com",
        "EXT-1022",
        "CARD-1022",
        "200 points in Gold Club expire in 7 days; more expire later.",
    ),
    DemoMember(
        MEMBER_LONG_LEDGER,
        "Farah Khan",
        "919800000023",
        "farah.khan@example.com",
        "EXT-1023",
        "CARD-1023",
        "A long points history: 45 events over 55 days (5 pages), with pending events (11002).",
    ),
    DemoMember(
        MEMBER_EXPIRY_FAILS,
        "Sanjay Gupta",
        "919800000024",
        "sanjay.gupta@example.com",
        "EXT-1024",
        "CARD-1024",
        "Every points-expiry call fails with HTTP 500; the rest of the page answers.",
    ),
    DemoMember(
        MEMBER_DUAL_ELIGIBILITY,
        "Divya Menon",
        "919800000025",
        "divya.menon@example.com",
        "EXT-1025",
        "CARD-1025",
        "Under dual eligibility: the points-expiry API refuses (it does not work then).",
    ),
)
STORY_MEMBERS_BY_ID: dict[int, DemoMember] = {m.id: m for m in STORY_MEMBERS}


@dataclass(frozen=True, slots=True)
class Tier:
    """One program's tier for customer details (loyaltyProgramDetails[])."""

    program_id: int
    current: str
    next: str | None
    expires: datetime | None


@dataclass(frozen=True, slots=True)
class Expiry:
    """Points that expire at a moment (expirySchedules[])."""

    points: Decimal
    at: datetime
    program_id: int
    points_type: str
    expiry_type: str  # "fixed" or "rolling"


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One entryDetails line: CREDIT or DEBIT, points, category, program."""

    entry_type: str
    points: Decimal
    category: str
    program_id: int


@dataclass(frozen=True, slots=True)
class LedgerItem:
    """One ledger entry: an event and what it moved."""

    event_id: int
    event_name: str
    at: datetime
    lines: tuple[LedgerLine, ...]
    store: str | None = None
    till: str | None = None

    @property
    def net(self) -> Decimal:
        """Credits less debits."""
        return sum(
            (line.points if line.entry_type == "CREDIT" else -line.points for line in self.lines),
            Decimal("0.000"),
        )


@dataclass(frozen=True, slots=True)
class Story:
    """What the story endpoints answer for one member."""

    first_name: str
    last_name: str
    tiers: tuple[Tier, ...] = ()
    expiries: tuple[Expiry, ...] = ()
    ledger: tuple[LedgerItem, ...] = ()  # newest first
    expiry_fails: bool = False
    dual_eligibility: bool = False
    ledger_pending: bool = False  # 11002 on every ledger answer


def _d(text: str) -> Decimal:
    return Decimal(text)


def _at(today: date, days: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=ZONE)


def _end_of(today: date, days: int) -> datetime:
    return datetime.combine(today + timedelta(days=days), time(23, 59, 59), tzinfo=ZONE)


def _earned(n: int, at: datetime, points: str, program: int, store: str) -> LedgerItem:
    line = LedgerLine("CREDIT", _d(points), "REGULAR", program)
    return LedgerItem(n, "TransactionAdd", at, (line,), store, f"{store.split()[0].lower()}.till1")


def _redeemed(n: int, at: datetime, points: str, program: int, store: str) -> LedgerItem:
    line = LedgerLine("DEBIT", _d(points), "REGULAR", program)
    return LedgerItem(n, "PointsRedemption", at, (line,), store, None)


def _expired(n: int, at: datetime, points: str, program: int) -> LedgerItem:
    return LedgerItem(n, "PointsExpiry", at, (LedgerLine("DEBIT", _d(points), "REGULAR", program),))


def _converted(n: int, at: datetime, points: str, program: int) -> LedgerItem:
    lines = (
        LedgerLine("DEBIT", _d(points), "PROMISED", program),
        LedgerLine("CREDIT", _d(points), "REGULAR", program),
    )
    return LedgerItem(n, "PromisedPointsConversion", at, lines)


def _short_ledger(today: date, base: int, program: int) -> tuple[LedgerItem, ...]:
    """Four events of each kind over the last three weeks, newest first."""
    return (
        _converted(base + 4, _at(today, -2, 9, 30), "62.500", program),
        _redeemed(base + 3, _at(today, -6, 18, 5), "150.000", program, "Koramangala Store"),
        _expired(base + 2, _at(today, -12, 0, 0), "40.000", program),
        _earned(base + 1, _at(today, -20, 13, 45), "350.000", program, "Indiranagar Store"),
    )


def _long_ledger(today: date) -> tuple[LedgerItem, ...]:
    """LONG_LEDGER_EVENTS events over 55 days, newest first; deterministic."""
    stores = ("Indiranagar Store", "Koramangala Store", "Whitefield Store")
    items = []
    for i in range(LONG_LEDGER_EVENTS):
        at = _at(today, -1 - (i * 54) // LONG_LEDGER_EVENTS, 10 + i % 9, (i * 7) % 60)
        n = 880000 + LONG_LEDGER_EVENTS - i
        kind = i % 5
        if kind == 1:
            items.append(_redeemed(n, at, f"{50 + i}.000", 2199, stores[i % 3]))
        elif kind == 3:
            items.append(_converted(n, at, f"{10 + i}.500", 2199))
        else:
            items.append(_earned(n, at, f"{100 + 3 * i}.250", 2199, stores[i % 3]))
    return tuple(items)


def _tiers(today: date, *spec: tuple[int, str, str | None, int | None]) -> tuple[Tier, ...]:
    return tuple(
        Tier(pid, cur, nxt, _end_of(today, days) if days is not None else None)
        for pid, cur, nxt, days in spec
    )


@lru_cache(maxsize=4)
def build_stories(today: date) -> dict[int, Story]:
    """Every member's story by id, with dates counted from ``today``."""
    t = today
    gold = (2199, "Gold", "Platinum", 200)
    return {
        565039505: Story("Priya", "Sharma", _tiers(t, (2199, "Silver", "Gold", 320))),
        374844123: Story(
            "Arjun",
            "Mehta",
            _tiers(t, (2199, "Gold", "Platinum", 150), (1933, "Blue", "Silver", None)),
        ),
        342249069: Story(
            "Tom", "Swayer", _tiers(t, (2199, "Silver", "Gold", 90), (890, "Base", None, None))
        ),
        700000001: Story(
            "Asha",
            "Rao",
            _tiers(t, gold, (1933, "Silver", "Gold", 120), (890, "Base", "Plus", None)),
            expiries=(
                Expiry(_d("200.000"), _end_of(t, 24), 2199, "bill_regular", "fixed"),
                Expiry(_d("35.500"), _end_of(t, 24), 1933, "line_item_promotions", "rolling"),
                Expiry(_d("120.000"), _end_of(t, 150), 2199, "customer_promotions", "rolling"),
            ),
            ledger=_short_ledger(t, 770100, 2199),
        ),
        700000002: Story(
            "Vikram",
            "Iyer",
            _tiers(t, (2199, "Platinum", None, 400), (1933, "Gold", "Platinum", 60)),
            ledger=_short_ledger(t, 770200, 2199),
        ),
        700000003: Story("Meera", "Nair", _tiers(t, (2199, "Silver", "Gold", 45))),
        700000004: Story(
            "Rohan",
            "Das",
            _tiers(t, (2199, "Gold", "Platinum", 100)),
            expiries=(Expiry(_d("80.000"), _end_of(t, 60), 2199, "bill_promotions", "fixed"),),
        ),
        700000005: Story(
            "Leela",
            "Menon",
            _tiers(t, (2199, "Silver", "Gold", 210), (4242, "Legacy", None, None)),
            expiries=(Expiry(_d("300.000"), _end_of(t, 40), 4242, "bill_regular", "fixed"),),
        ),
        MEMBER_TIER_ENDING: Story(
            "Kavya",
            "Pillai",
            _tiers(t, (2199, "Gold", "Platinum", 5), (1933, "Silver", "Gold", 180)),
            expiries=(Expiry(_d("75.000"), _end_of(t, 120), 2199, "bill_regular", "rolling"),),
            ledger=_short_ledger(t, 770300, 2199),
        ),
        MEMBER_EXPIRING_SOON: Story(
            "Nikhil",
            "Bose",
            _tiers(t, gold),
            expiries=(
                Expiry(_d("200.000"), _end_of(t, 7), 2199, "bill_regular", "fixed"),
                Expiry(_d("45.250"), _end_of(t, 35), 2199, "line_item_regular", "rolling"),
                Expiry(_d("600.000"), _end_of(t, 400), 2199, "bill_promotions", "rolling"),
            ),
            ledger=_short_ledger(t, 770400, 2199),
        ),
        MEMBER_LONG_LEDGER: Story(
            "Farah", "Khan", _tiers(t, gold), ledger=_long_ledger(t), ledger_pending=True
        ),
        MEMBER_EXPIRY_FAILS: Story("Sanjay", "Gupta", _tiers(t, gold), expiry_fails=True),
        MEMBER_DUAL_ELIGIBILITY: Story("Divya", "Menon", _tiers(t, gold), dual_eligibility=True),
    }


def story_members(today: date) -> list[Member]:
    """The five story members' points (the balance and schedule endpoints serve them too)."""

    def in_days(n: int) -> date:
        return today + timedelta(days=n)

    by_id = STORY_MEMBERS_BY_ID
    return [
        Member(
            by_id[MEMBER_TIER_ENDING],
            main_points={2199: _d("3150.000"), 1933: _d("210.000")},
            schedule=(ScheduleItem(_d("90.000"), in_days(12), 2199, "bill_regular"),),
        ),
        Member(
            by_id[MEMBER_EXPIRING_SOON],
            main_points={2199: _d("845.250")},
            schedule=(ScheduleItem(_d("30.000"), in_days(4), 2199, "bill_promotions"),),
        ),
        Member(
            by_id[MEMBER_LONG_LEDGER],
            main_points={2199: _d("5120.750")},
            schedule=(ScheduleItem(_d("44.500"), in_days(3), 2199, "line_item_regular"),),
            triggers=(TriggerItem(_d("20.000"), 2199, "customer_promotions"),),
        ),
        Member(
            by_id[MEMBER_EXPIRY_FAILS],
            main_points={2199: _d("1500.000")},
            schedule=(ScheduleItem(_d("55.000"), in_days(8), 2199, "bill_regular"),),
        ),
        Member(
            by_id[MEMBER_DUAL_ELIGIBILITY],
            main_points={2199: _d("2750.000")},
            schedule=(ScheduleItem(_d("25.000"), in_days(15), 2199, "bill_regular"),),
        ),
    ]
