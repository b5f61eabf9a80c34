"""Turn the data of a successful answer into typed results; no I/O here (envelope.py has
already decoded it and raised the typed error of any failure).

Points are kept as Decimal exactly as sent. A required field that is missing or of the wrong
type raises MalformedResponse naming the field path (never a value, which could identify the
member).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any, NoReturn

from app.capillary.envelope import all_warnings, malformed
from app.capillary.models import (
    Balance,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
)
from app.capillary.transport import RawResponse

# Far beyond any real balance; stops 1e308 and friends reaching arithmetic and templates.
MAX_POINTS = Decimal(10) ** 15
_LEGACY_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_balance(body: Mapping[str, Any], raw: RawResponse) -> Balance:
    """Build a Balance from a points/balance body."""
    fields = _Fields(body, raw)
    breakup = fields.obj("promisedPointsBreakup")
    return Balance(
        entity_id=fields.integer("entityId"),
        entity_type=fields.text("entityType"),
        total_points=fields.points("totalPoints"),
        main_points=fields.points("mainPoints"),
        promised_points=fields.points("promisedPoints"),
        delayed_accrual_points=breakup.points("delayedAccrualPoints"),
        external_trigger_points=breakup.points("externalTriggerBasedPoints"),
        program_id=fields.optional_integer("programId"),
        warnings=all_warnings(body, raw),
        request_id=raw.request_id,
    )


def parse_schedule(
    body: Mapping[str, Any], raw: RawResponse, cluster_tz: tzinfo
) -> PromisedSchedule:
    """Build a PromisedSchedule from a promisedPointsSchedule body."""
    fields = _Fields(body, raw)
    entries = tuple(
        _schedule_entry(item, cluster_tz) for item in fields.objects("promisedPointsScheduleList")
    )
    triggers = tuple(
        TriggerEntry(
            points=item.points("points"),
            program_id=item.integer("programId"),
            points_type=item.text("pointsType"),
        )
        for item in fields.objects("triggerBasedPointsList")
    )
    return PromisedSchedule(
        entity_id=fields.integer("entityId"),
        entity_type=fields.text("entityType"),
        entries=entries,
        triggers=triggers,
        warnings=all_warnings(body, raw),
        request_id=raw.request_id,
    )


def _schedule_entry(item: _Fields, cluster_tz: tzinfo) -> ScheduleEntry:
    return ScheduleEntry(
        points=item.points("points"),
        redeemable_from=item.redeemable_from(cluster_tz),
        program_id=item.integer("programId"),
        points_type=item.text("pointsType"),
        expiry_type=item.optional_text("expiryType"),
    )


class _Fields:
    """Typed access to one JSON object, naming the field path in every complaint."""

    def __init__(self, data: Mapping[str, Any], raw: RawResponse, path: str = "") -> None:
        self.data = data
        self.raw = raw
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _required(self, key: str) -> Any:
        value = self.data.get(key)
        if value is None:
            malformed(self.raw, f"field '{self._name(key)}' is missing")
        return value

    def _wrong(self, key: str, expected: str) -> NoReturn:
        malformed(self.raw, f"field '{self._name(key)}' is not {expected}")

    def integer(self, key: str) -> int:
        value = self._required(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "an integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def text(self, key: str) -> str:
        value = self._required(key)
        if not isinstance(value, str):
            self._wrong(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def points(self, key: str) -> Decimal:
        value = self._required(key)
        # bool is an int subclass; a quoted number is not what the contract sends.
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self._wrong(key, "a number")
        number = Decimal(value)
        if not number.is_finite() or abs(number) >= MAX_POINTS:
            self._wrong(key, "a plausible points figure")
        return number

    def obj(self, key: str) -> _Fields:
        value = self._required(key)
        if not isinstance(value, dict):
            self._wrong(key, "an object")
        return _Fields(value, self.raw, self._name(key))

    def objects(self, key: str) -> list[_Fields]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, "a list")
        items = []
        for index, item in enumerate(value):
            name = f"{self._name(key)}[{index}]"
            if not isinstance(item, dict):
                malformed(self.raw, f"field '{name}' is not an object")
            items.append(_Fields(item, self.raw, name))
        return items

    def redeemable_from(self, cluster_tz: tzinfo) -> datetime:
        """redeemableFromISO when present, else the deprecated date at cluster midnight."""
        if self.data.get("redeemableFromISO") is not None:
            text = self.text("redeemableFromISO")
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                self._wrong("redeemableFromISO", "an ISO-8601 date-time")
            # The docs promise an offset; a bare local time is read in the cluster zone.
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=cluster_tz)
        text = self.text("redeemableFrom")
        if not _LEGACY_DATE.fullmatch(text):
            self._wrong("redeemableFrom", "a YYYY-MM-DD date")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self._wrong("redeemableFrom", "a YYYY-MM-DD date")
        return datetime.combine(day, time(0), tzinfo=cluster_tz)
