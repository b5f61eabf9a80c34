"""Typed results of the member-story reads (capillary-api.md 7.3): who the member is and
their tier per program (customer details with embed=mlp), what expires (pointsExpirySchedule)
and where points went (the points ledger). Points are Decimal exactly as sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.capillary.models import UpstreamMessage


@dataclass(frozen=True, slots=True)
class ProgramTier:
    """One program's tier: current, when it ends, and the next one (None: there is none)."""

    program_id: int
    program_title: str | None
    current_tier: str | None
    next_tier: str | None
    tier_expires: datetime | None


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """GET customerDetails (embed=mlp): the member's name and tier in each program."""

    entity_id: int
    first_name: str | None
    last_name: str | None
    tiers: tuple[ProgramTier, ...] = ()
    warnings: tuple[UpstreamMessage, ...] = ()
    request_id: str | None = None

    def __repr__(self) -> str:
        # Names are personal data: a repr that reaches a log or a traceback leaves them out.
        return f"MemberProfile(entity_id={self.entity_id}, tiers={len(self.tiers)})"


@dataclass(frozen=True, slots=True)
class ExpiryEntry:
    """Points of one program and points type that expire at a moment."""

    points: Decimal
    expires_at: datetime  # always timezone-aware
    program_id: int
    points_type: str
    expiry_type: str | None = None  # "fixed" or "rolling"


@dataclass(frozen=True, slots=True)
class ExpirySchedule:
    """GET pointsExpirySchedule: upcoming expiries (the body names the member by `id`)."""

    entity_id: int
    entries: tuple[ExpiryEntry, ...] = ()
    warnings: tuple[UpstreamMessage, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerPart:
    """One entryDetails line of a ledger event: a credit or a debit in one program."""

    entry_type: str  # CREDIT, DEBIT, OPENING_BALANCE
    points: Decimal
    category: str | None = None  # REGULAR, PROMISED, TRIGGER_BASED
    program_id: int | None = None
    program_name: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One ledger entry: an event and what it moved."""

    event_id: str | None
    event_name: str
    created_at: datetime
    parts: tuple[LedgerPart, ...]
    net_points: Decimal | None
    store: str | None = None
    till_code: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerPage:
    """GET getCustomerLedgerInfo: one page of the ledger, as the API pages it."""

    page_number: int
    page_size: int
    total_entries: int
    page_count: int
    events: tuple[LedgerEvent, ...] = ()
    incomplete: bool = False  # 11002: pending events, the ledger may be incomplete
    warnings: tuple[UpstreamMessage, ...] = ()
    request_id: str | None = None
