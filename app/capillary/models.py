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

    Several identifiers (dual eligibility) are sent as the documented comma-separated lists,
    names and values in the same order; any number of them. account_id: sent as accountId
    (the client sends its configured one for a source other than INSTORE when this is None).
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
    # None: the answer left the figure out and the others do not fix it ("not known").
    total_points: Decimal | None
    main_points: Decimal | None
    promised_points: Decimal | None
    delayed_accrual_points: Decimal | None
    external_trigger_points: Decimal | None
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


@dataclass(frozen=True, slots=True)
class Program:
    """One loyalty program of the org (GET v2/organization/programs)."""

    program_id: int
    name: str | None = None
    tier_based: bool | None = None
