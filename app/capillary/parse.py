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
    Program,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
)
from app.capillary.transport import RawResponse

# Far beyond any real balance; stops 1e308 and friends reaching arithmetic and templates.
MAX_POINTS = Decimal(10) ** 15
_LEGACY_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A points figure sent as a string: digits, an optional sign and fraction; nothing else
# ("NaN", "1e400" and "12,5" are not figures).
_QUOTED_POINTS = re.compile(r"[-+]?\d{1,18}(?:\.\d{1,12})?")


def parse_balance(body: Mapping[str, Any], raw: RawResponse) -> Balance:
    """Build a Balance from a points/balance body.

    A figure the answer leaves out is None ("not known"), or derived where the others fix
    it (promised = delayed + trigger, total = main + promised); never a reason to drop the
    whole answer ([BAL-L]'s field table omits promisedPoints).
    """
    fields = Fields(body, raw)
    breakup = fields.optional_obj("promisedPointsBreakup")
    figures = derive_figures(
        total=fields.optional_points("totalPoints"),
        main=fields.optional_points("mainPoints"),
        promised=fields.optional_points("promisedPoints"),
        delayed=breakup.optional_points("delayedAccrualPoints") if breakup else None,
        trigger=breakup.optional_points("externalTriggerBasedPoints") if breakup else None,
    )
    return Balance(
        entity_id=fields.integer("entityId"),
        # CUSTOMER is the documented default; the lookup form's field table omits it.
        entity_type=fields.optional_text("entityType") or "CUSTOMER",
        total_points=figures["total"],
        main_points=figures["main"],
        promised_points=figures["promised"],
        delayed_accrual_points=figures["delayed"],
        external_trigger_points=figures["trigger"],
        program_id=fields.optional_integer("programId"),
        warnings=all_warnings(body, raw),
        request_id=raw.request_id,
    )


def derive_figures(**known: Decimal | None) -> dict[str, Decimal | None]:
    """Fill the figures the others fix: total = main + promised, promised = delayed +
    trigger, and each part as the whole less the other part. Sent figures are kept."""
    figures = dict(known)
    # The breakup first: promised = delayed + trigger is the documented derivation.
    sums = (("promised", "delayed", "trigger"), ("total", "main", "promised"))
    changed = True
    while changed:
        changed = False
        for whole, first, second in sums:
            a, b, c = figures[whole], figures[first], figures[second]
            if a is None and b is not None and c is not None:
                figures[whole] = b + c
            elif a is not None and b is None and c is not None:
                figures[first] = a - c
            elif a is not None and b is not None and c is None:
                figures[second] = a - b
            else:
                continue
            changed = True
    return figures


def parse_schedule(
    body: Mapping[str, Any], raw: RawResponse, cluster_tz: tzinfo
) -> PromisedSchedule:
    """Build a PromisedSchedule from a promisedPointsSchedule body."""
    fields = Fields(body, raw)
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
        entity_type=fields.optional_text("entityType") or "CUSTOMER",
        entries=entries,
        triggers=triggers,
        warnings=all_warnings(body, raw),
        request_id=raw.request_id,
    )


# Where a wrapped program list may sit: the docs show the fields of a program, not the
# wrapper, so a bare array and the usual v2 wrappers are all read.
PROGRAM_LIST_KEYS = ("data", "programs", "entity", "response", "result")


def parse_programs(body: Any, raw: RawResponse) -> tuple[Program, ...]:
    """The org's programs from a v2/organization/programs body (an array, or an object
    holding one under a usual key)."""
    items = body if isinstance(body, list) else None
    if isinstance(body, dict):
        for key in PROGRAM_LIST_KEYS:
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("programs")
            if isinstance(value, list):
                items = value
                break
    if items is None:
        malformed(raw, "no list of programs in the answer")
    programs = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            malformed(raw, f"field '[{index}]' is not an object")
        fields = Fields(item, raw, f"[{index}]")
        program_id = item.get("programId")
        if isinstance(program_id, str) and program_id.isdigit():
            program_id = int(program_id)
        if isinstance(program_id, bool) or not isinstance(program_id, int):
            fields._wrong("programId", "an integer")
        tier_based = item.get("tierBased")
        programs.append(
            Program(
                program_id=program_id,
                name=item["programName"] if isinstance(item.get("programName"), str) else None,
                tier_based=tier_based if isinstance(tier_based, bool) else None,
            )
        )
    return tuple(programs)


def _schedule_entry(item: Fields, cluster_tz: tzinfo) -> ScheduleEntry:
    return ScheduleEntry(
        points=item.points("points"),
        redeemable_from=item.redeemable_from(cluster_tz),
        program_id=item.integer("programId"),
        points_type=item.text("pointsType"),
        expiry_type=item.optional_text("expiryType"),
    )


class Fields:
    """Typed access to one JSON object, naming the field path in every complaint (a reader
    of another API subclasses it for that API's own leniencies)."""

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
        # bool is an int subclass. Integers, decimals and quoted decimals ("350.000", as the
        # ledger API writes them) are all documented; negative points too (-40).
        if isinstance(value, str) and _QUOTED_POINTS.fullmatch(value.strip()):
            value = Decimal(value.strip())
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self._wrong(key, "a number")
        number = Decimal(value)
        if not number.is_finite() or abs(number) >= MAX_POINTS:
            self._wrong(key, "a plausible points figure")
        return number

    def optional_points(self, key: str) -> Decimal | None:
        return None if self.data.get(key) is None else self.points(key)

    def obj(self, key: str) -> Fields:
        value = self._required(key)
        if not isinstance(value, dict):
            self._wrong(key, "an object")
        return type(self)(value, self.raw, self._name(key))

    def optional_obj(self, key: str) -> Fields | None:
        return None if self.data.get(key) is None else self.obj(key)

    def objects(self, key: str) -> list[Fields]:
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
            items.append(type(self)(item, self.raw, name))
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
