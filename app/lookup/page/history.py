"""History: where the member's points went. The ledger's events newest first, each in plain
words ("Earned on a bill at Indiranagar Store", "Redeemed", "Expired", "Promised points
converted") with its net change and the lines behind it, paged as the API pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from app.capillary import LedgerEvent, LedgerPage
from app.explanations import explain
from app.lookup.fetching.outcome import Outcome
from app.lookup.fetching.scope import program_name
from app.lookup.page.notices import Notice

ZERO = Decimal(0)
SIGN = {"CREDIT": 1, "OPENING_BALANCE": 1, "DEBIT": -1}
CATEGORY_WORDS = {
    "REGULAR": "regular",
    "PROMISED": "promised",
    "TRIGGER_BASED": "waiting for an event",
}


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One credit or debit of an event, signed."""

    program_name: str
    category: str
    points: Decimal  # negative for a debit

    @property
    def sign(self) -> str:
        """'+' for a credit, '−' for a debit."""
        return "+" if self.points > 0 else "\u2212" if self.points < 0 else ""

    @property
    def magnitude(self) -> Decimal:
        """The points without their sign."""
        return abs(self.points)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One event of the ledger."""

    at: datetime
    words: str
    net: Decimal
    lines: tuple[HistoryLine, ...]
    till: str | None
    kind: str  # "credit", "debit" or "none": for the net's colour, with a sign to read

    @property
    def sign(self) -> str:
        """'+' for a credit, '−' for a debit, nothing for no change."""
        return "+" if self.net > 0 else "\u2212" if self.net < 0 else ""

    @property
    def magnitude(self) -> Decimal:
        """The net change without its sign."""
        return abs(self.net)


@dataclass(frozen=True, slots=True)
class History:
    """Everything the History page displays."""

    member_id: int
    start: date
    end: date
    rows: tuple[HistoryRow, ...]
    page: int  # from 0, as the API counts
    page_count: int
    total_entries: int
    incomplete: bool  # 11002: pending events, the ledger may be incomplete
    failure: Notice | None
    fetched_at: datetime

    @property
    def has_previous(self) -> bool:
        """Whether there is a newer page."""
        return self.page > 0

    @property
    def has_next(self) -> bool:
        """Whether there is an older page."""
        return self.page + 1 < self.page_count


def describe(event: LedgerEvent, net: Decimal) -> str:
    """The event in words an agent can read out."""
    name = event.event_name.lower()
    categories = {part.category for part in event.parts}
    at_store = f" at {event.store}" if event.store else ""
    if "expir" in name:
        return "Expired"
    if "redeem" in name or "redemption" in name:
        return f"Redeemed{at_store}"
    if "conversion" in name or "convert" in name or {"PROMISED", "REGULAR"} <= categories:
        return "Promised points converted"
    if "return" in name:
        return f"Taken back for a returned bill{at_store}"
    if "transaction" in name or "bill" in name:
        return f"Earned on a bill{at_store}" if net >= 0 else f"Deducted on a bill{at_store}"
    if any(part.entry_type == "OPENING_BALANCE" for part in event.parts):
        return "Opening balance"
    tidy = event.event_name.replace("_", " ").strip() or "an event"
    return f"Credited ({tidy})" if net >= 0 else f"Debited ({tidy})"


def _row(event: LedgerEvent, programs: Mapping[int, str], zone: tzinfo) -> HistoryRow:
    lines = tuple(
        HistoryLine(
            program_name=(
                program_name(programs, part.program_id)
                if part.program_id is not None and part.program_id in programs
                else part.program_name or "—"
            ),
            category=CATEGORY_WORDS.get((part.category or "").upper(), part.category or ""),
            points=part.points * SIGN.get(part.entry_type, 1),
        )
        for part in event.parts
    )
    net = (
        event.net_points
        if event.net_points is not None
        else sum((line.points for line in lines), ZERO)
    )
    return HistoryRow(
        at=event.created_at.astimezone(zone),
        words=describe(event, net),
        net=net,
        lines=lines,
        till=event.till_code,
        kind="credit" if net > 0 else "debit" if net < 0 else "none",
    )


def build_history(
    member_id: int,
    outcome: Outcome[LedgerPage],
    programs: Mapping[int, str],
    *,
    start: date,
    end: date,
    page: int,
    zone: tzinfo,
) -> History:
    """The History page's figures: newest first, as paged upstream."""
    ledger = outcome.value
    failure = None
    if ledger is None:
        error = outcome.error
        assert error is not None
        failure = Notice(
            title="The points history could not be fetched",
            explanation=explain(error),
            code=error.code,
            message=error.message if error.code is not None else None,
            request_id=error.request_id,
            http_status=error.status,
        )
    events = sorted(ledger.events, key=lambda e: e.created_at, reverse=True) if ledger else []
    return History(
        member_id=member_id,
        start=start,
        end=end,
        rows=tuple(_row(event, programs, zone) for event in events),
        page=ledger.page_number if ledger else page,
        page_count=ledger.page_count if ledger else 0,
        total_entries=ledger.total_entries if ledger else 0,
        incomplete=bool(ledger and ledger.incomplete),
        failure=failure,
        fetched_at=outcome.fetched_at.astimezone(zone),
    )
