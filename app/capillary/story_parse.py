"""Typed results of the member-story reads from their decoded bodies; no I/O here.

Lenient where the docs are (capillary-api.md 7.1, 7.3): points arrive as integers, decimals,
negative numbers or quoted strings ("350.000") and are all kept as Decimal; a body names the
member by `id` (the expiry schedule, customer details) or `entityId`. A required field that is
missing or of the wrong type raises MalformedResponse naming the field path, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from typing import Any

from app.capillary import envelope
from app.capillary.envelope import all_warnings, malformed
from app.capillary.errors import MalformedResponse
from app.capillary.parse import Fields
from app.capillary.story_models import (
    ExpiryEntry,
    ExpirySchedule,
    LedgerEvent,
    LedgerPage,
    LedgerPart,
    MemberProfile,
    ProgramTier,
)
from app.capillary.transport import RawResponse

# The ledger's own codes that are not a failure of the call (capillary-api.md 7.3): 11002
# "pending events, the ledger may be incomplete" (the page says so), 11003 "no entries".
LEDGER_INCOMPLETE = 11002
LEDGER_EMPTY = 11003
LEDGER_NOTES = frozenset({LEDGER_INCOMPLETE, LEDGER_EMPTY})
_LEGACY_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def interpret_ledger(raw: RawResponse) -> Mapping[str, Any]:
    """The ledger's body: 11002 and 11003 (in errors[] or warnings[], at any status the body
    is JSON) are notes about the answer, not its failure; anything else as for every call."""
    try:
        body = envelope.decode_json(raw)
    except MalformedResponse:
        body = None
    if isinstance(body, dict) and 200 <= raw.status < 500:
        errors = envelope.error_entries(body)
        if errors and all(entry.code in LEDGER_NOTES for entry in errors):
            kept = dict(body)
            kept["warnings"] = list(body.get("warnings") or []) + list(body.get("errors") or [])
            kept["errors"] = []
            return kept
    return envelope.interpret(raw)


def parse_profile(body: Mapping[str, Any], raw: RawResponse, cluster_tz: tzinfo) -> MemberProfile:
    """Build a MemberProfile from a customerDetails body (embed=mlp)."""
    fields = _Fields(body, raw)
    profiles = fields.objects("profiles")
    first = profiles[0] if profiles else None
    return MemberProfile(
        entity_id=fields.member_id(),
        first_name=first.optional_text("firstName") if first else None,
        last_name=first.optional_text("lastName") if first else None,
        tiers=tuple(_tier(item, cluster_tz) for item in fields.objects("loyaltyProgramDetails")),
        warnings=all_warnings(body, raw),
        request_id=raw.request_id,
    )


def _tier(item: _Fields, cluster_tz: tzinfo) -> ProgramTier:
    return ProgramTier(
        program_id=item.integer("programId"),
        program_title=item.optional_text("programTitle"),
        current_tier=item.optional_text("currentSlab"),
        next_tier=item.optional_text("nextSlab"),
        tier_expires=item.optional_moment("slabExpiryDateISO", "slabExpiryDate", cluster_tz),
    )


def parse_expiry(body: Mapping[str, Any], raw: RawResponse, cluster_tz: tzinfo) -> ExpirySchedule:
    """Build an ExpirySchedule from a pointsExpirySchedule body, soonest first."""
    fields = _Fields(body, raw)
    entries = [
        ExpiryEntry(
            points=item.points("points"),
            expires_at=item.moment("expiryDateISO", "expiryDate", cluster_tz),
            program_id=item.integer("programId"),
            points_type=item.optional_text("pointsType") or "",
            expiry_type=item.optional_text("expiryType"),
        )
        for item in fields.objects("expirySchedules")
    ]
    entries.sort(key=lambda e: (e.expires_at, e.program_id, e.points_type))
    return ExpirySchedule(
        entity_id=fields.member_id(),
        entries=tuple(entries),
        warnings=all_warnings(body, raw),
        request_id=raw.request_id,
    )


def parse_ledger(body: Mapping[str, Any], raw: RawResponse, cluster_tz: tzinfo) -> LedgerPage:
    """Build a LedgerPage from a getCustomerLedgerInfo body (after interpret_ledger)."""
    fields = _Fields(body, raw)
    warnings = all_warnings(body, raw)
    codes = {warning.code for warning in warnings}
    events = tuple(_event(item, cluster_tz) for item in fields.objects("ledgerEntries"))
    details = fields.optional_obj("ledgerDetails")
    if details is None:
        if events:
            malformed(raw, "field 'ledgerDetails' is missing")
        page_number = page_size = total = pages = 0
    else:
        page_number = details.optional_integer("pageNumber") or 0
        page_size = details.optional_integer("pageSize") or len(events)
        total = details.optional_integer("totalEntries") or len(events)
        pages = details.optional_integer("pageCount") or (1 if events else 0)
    return LedgerPage(
        page_number=page_number,
        page_size=page_size,
        total_entries=total,
        page_count=pages,
        events=events,
        incomplete=LEDGER_INCOMPLETE in codes,
        # 11002 is said at the top of History in its own words; 11003 is the empty list.
        warnings=tuple(w for w in warnings if w.code not in LEDGER_NOTES),
        request_id=raw.request_id,
    )


def _event(item: _Fields, cluster_tz: tzinfo) -> LedgerEvent:
    parts = tuple(
        LedgerPart(
            entry_type=part.text("ledgerEntryType").upper(),
            points=part.points("points"),
            category=part.optional_text("pointsCategory"),
            program_id=part.optional_integer("programId"),
            program_name=part.optional_text("programName"),
        )
        for part in item.objects("entryDetails")
    )
    event_id = item.data.get("eventLogId")
    return LedgerEvent(
        event_id=None if event_id is None else str(event_id),
        event_name=item.optional_text("eventName") or "",
        created_at=item.moment("ledgerCreatedDateISO", "ledgerCreatedDate", cluster_tz),
        parts=parts,
        net_points=item.optional_points("netPointsOnEvent"),
        store=_store_name(item),
        till_code=item.optional_text("tillCode"),
    )


def _store_name(item: _Fields) -> str | None:
    # `store` is a name in the docs' table; an object with a name or code is read too.
    value = item.data.get("store")
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("name", "code", "storeName", "storeCode"):
            if isinstance(value.get(key), str) and value[key]:
                return value[key]
    return None


class _Fields(Fields):
    """Fields, lenient as these APIs need: `id` for the member, digit strings as integers,
    blank text as none, and dates in the ISO or the legacy field."""

    def member_id(self) -> int:
        """`id` (customer details, expiry schedule) or `entityId` (the other reads)."""
        key = "id" if self.data.get("id") is not None else "entityId"
        return self.integer(key)

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
            return int(value)
        return super().integer(key)

    def optional_text(self, key: str) -> str | None:
        value = super().optional_text(key)
        return None if value is None else value.strip() or None

    def moment(self, iso_key: str, legacy_key: str, cluster_tz: tzinfo) -> datetime:
        found = self.optional_moment(iso_key, legacy_key, cluster_tz)
        if found is None:
            malformed(self.raw, f"field '{self._name(legacy_key)}' is missing")
        return found

    def optional_moment(self, iso_key: str, legacy_key: str, cluster_tz: tzinfo) -> datetime | None:
        """The ISO field when present (its offset kept), else the legacy one in the cluster
        zone: a date (midnight), or a date and time with a space or a T."""
        for key in (iso_key, legacy_key):
            text = self.optional_text(key)
            if text is None:
                continue
            try:
                if _LEGACY_DAY.fullmatch(text):
                    return datetime.combine(date.fromisoformat(text), time(0), tzinfo=cluster_tz)
                moment = datetime.fromisoformat(text.replace(" ", "T", 1))
            except ValueError:
                self._wrong(key, "a date")
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=cluster_tz)
        return None
