"""Typed results of the upstream calls. Points are Decimal exactly as sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# identifierName values the lookup endpoints document (capillary-api.md 1.2).
IDENTIFIER_NAMES = (
    "mobile",
    "email",
    "externalId",
    "cardnumber",
    "cardExternalId",
    "wechat",
    "martjackId",
    "fbId",
)
# entityType values (capillary-api.md 1.2, 2.2).
ENTITY_TYPES = ("CUSTOMER", "FLEET")


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifier of a member: identifierName and identifierValue."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class MemberLookup:
    """How to find a member without their Capillary id (the /lookup/ endpoint forms).

    Two identifiers are sent as the documented comma-separated pair (dual eligibility).
    """

    identifiers: tuple[Identifier, ...]
    source: str = "INSTORE"
    account_id: str | None = None


# A member is named either by Capillary customer id (int) or by a lookup.
MemberRef = int | MemberLookup


@dataclass(frozen=True, slots=True)
class UpstreamMessage:
    """One entry of the upstream's warnings[] or errors[] arrays."""

    code: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Balance:
    """GET points/balance: one flat object (a sum across programs when all were asked for)."""

    entity_id: int
    entity_type: str
    total_points: Decimal
    main_points: Decimal
    promised_points: Decimal
    delayed_accrual_points: Decimal
    external_trigger_points: Decimal
    program_id: int | None = None  # only the 2022 docs show it; optional
    warnings: tuple[UpstreamMessage, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One promised-points entry: points that become redeemable at a time."""

    points: Decimal
    redeemable_from: datetime  # always timezone-aware
    program_id: int
    points_type: str
    expiry_type: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerEntry:
    """Promised points that convert when an external event arrives; they have no date."""

    points: Decimal
    program_id: int
    points_type: str


@dataclass(frozen=True, slots=True)
class PromisedSchedule:
    """GET promisedPointsSchedule: the dated list (unsorted as sent) and the trigger list."""

    entity_id: int
    entity_type: str
    entries: tuple[ScheduleEntry, ...] = ()
    triggers: tuple[TriggerEntry, ...] = ()
    warnings: tuple[UpstreamMessage, ...] = field(default=())
    request_id: str | None = None
