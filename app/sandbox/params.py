"""Query-parameter validation for the balance and schedule endpoints, raising ApiError."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.sandbox.data import DEFAULT_PROGRAM, ORG_PROGRAMS, Member

SOURCES = (
    "FACEBOOK",
    "WEB_ENGAGE",
    "WECHAT",
    "INSTORE",
    "MARTJACK",
    "TMALL",
    "TAOBAO",
    "JD",
    "ECOMMERCE",
    "WEBSITE",
    "LINE",
    "ALL",
)
# accountId is mandatory for every source but this one (capillary-api.md 7.2: 8045 otherwise).
ACCOUNTLESS_SOURCE = "INSTORE"
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
# The org's primary identifier under dual eligibility (capillary-api.md 1.2).
PRIMARY_IDENTIFIER = "mobile"
ENTITY_TYPES = ("CUSTOMER", "FLEET")
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_YEARS_AHEAD = 100

MESSAGES: dict[int, str] = {
    8015: "Customer not found for the given identifiers",
    885: "Invalid program id passed",
    1212: "Entity type passed is not valid",
    1632: "group id/externalId/primary userId passed is not valid",
    1214: "startDate cannot be after endDate",
    1215: "Date cannot be a past date",
    1216: "Invalid date format, expected YYYY-MM-DD",
    1217: "Date cannot be more than 100 years from now",
    8013: "Invalid identifier",
    8045: "accountId is required for this source",
    400: "Invalid input",
}


class ApiError(Exception):
    """An API-level refusal: answered with the documented errors[] body.

    HTTP status: the docs never say which status goes with 8015, 885 and the like on these
    GETs (capillary-api.md 4.2), and the balance OpenAPI declares only 200 and 400, so the
    sandbox answers every API error with 400. Clients must map by errors[].code anyway.
    """

    def __init__(self, code: int, message: str | None = None, status: int = 400) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Request failed")
        self.status = status
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, object]:
        """The documented error body."""
        return {
            "warnings": [],
            "errors": [{"status": False, "code": self.code, "message": self.message}],
        }


@dataclass(frozen=True, slots=True)
class Scope:
    """Which programs (and, for the schedule, which dates) a request covers."""

    entity_type: str
    program_ids: tuple[int, ...]
    start: date | None = None
    end: date | None = None


def parse_scope(args: Mapping[str, str], today: date, *, with_dates: bool) -> Scope:
    """Validate entityType, programId, fetchDataForAllPrograms and (schedule) the dates."""
    entity_type = args.get("entityType", "CUSTOMER")
    if entity_type not in ENTITY_TYPES:
        raise ApiError(1212)
    if entity_type == "FLEET":
        # The sandbox org has no user groups, so every group reference is invalid.
        raise ApiError(1632)
    program_id = _program_id(args.get("programId"))
    all_programs = _boolean(args.get("fetchDataForAllPrograms"), "fetchDataForAllPrograms")
    # Matrix of capillary-api.md 1.4: all=true wins over programId; else programId or default.
    if all_programs:
        programs = tuple(ORG_PROGRAMS)
    else:
        programs = (program_id if program_id is not None else DEFAULT_PROGRAM,)
    start = end = None
    if with_dates:
        start = _date(args.get("startDate"), today)
        end = _date(args.get("endDate"), today)
        if start is not None and end is not None and start > end:
            raise ApiError(1214)
    return Scope(entity_type=entity_type, program_ids=programs, start=start, end=end)


def _program_id(raw: str | None) -> int | None:
    # Validated even when fetchDataForAllPrograms=true makes it irrelevant: a bad id is a
    # bad request either way, and it surfaces client bugs early.
    if raw is None or raw == "":
        return None
    try:
        program_id = int(raw)
    except ValueError:
        raise ApiError(885) from None
    if program_id not in ORG_PROGRAMS:
        raise ApiError(885)
    return program_id


def _boolean(raw: str | None, name: str) -> bool:
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise ApiError(400, f"Invalid value for {name}")
    return lowered == "true"


def _date(raw: str | None, today: date) -> date | None:
    # No 1215 (past date): the docs' own examples pass 2022 start dates and get data back.
    if raw is None or raw == "":
        return None
    if not DATE_FORMAT.fullmatch(raw):
        raise ApiError(1216)
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ApiError(1216) from None
    if value > _years_ahead(today, MAX_YEARS_AHEAD):
        raise ApiError(1217)
    return value


def _years_ahead(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February in a year that has none
        return today.replace(year=today.year + years, day=28)


def find_by_id(members: Mapping[int, Member], raw_id: str) -> Member:
    """The member named by the userId path segment, or 8015."""
    try:
        member = members.get(int(raw_id))
    except ValueError:
        member = None
    if member is None:
        raise ApiError(8015)
    return member


def find_by_lookup(members: Mapping[int, Member], args: Mapping[str, str]) -> Member:
    """The member named by source + identifierName + identifierValue (+ accountId), or an error."""
    source = args.get("source")
    names_raw = args.get("identifierName")
    values_raw = args.get("identifierValue")
    if not source:
        raise ApiError(400, "source is required")
    if not names_raw or not values_raw:
        raise ApiError(400, "No identifier provided")
    if source not in SOURCES:
        raise ApiError(400, "Invalid source")
    if source != ACCOUNTLESS_SOURCE and not args.get("accountId"):
        raise ApiError(8045)
    names = [n.strip() for n in names_raw.split(",")]
    values = [v.strip() for v in values_raw.split(",")]
    # Dual eligibility: two lists in the same order; a length mismatch cannot be paired up.
    if len(names) != len(values):
        raise ApiError(8013, "identifierName and identifierValue lists differ in length")
    for name in names:
        if name not in IDENTIFIER_NAMES:
            raise ApiError(8013, f"Invalid identifierName {name!r}")
    pairs = dict(zip(names, values, strict=True))
    if PRIMARY_IDENTIFIER in pairs:
        name, value = PRIMARY_IDENTIFIER, pairs[PRIMARY_IDENTIFIER]
    elif len(pairs) == 1:
        name, value = next(iter(pairs.items()))
    else:
        # Several identifiers without the primary one: the server cannot pick (docs: 8015).
        raise ApiError(8015)
    member = _match(members, name, value)
    if member is None:
        raise ApiError(8015)
    if member.primary_only and name != PRIMARY_IDENTIFIER:
        # Dual eligibility: one identifier that is not the primary one is 8015 (docs 1.2).
        raise ApiError(8015)
    return member


def refuse_past_dates(scope: Scope, today: date) -> None:
    """The older docs' reading: "{x} cannot be a past date" (1215) for startDate and endDate."""
    for name, value in (("startDate", scope.start), ("endDate", scope.end)):
        if value is not None and value < today:
            raise ApiError(1215, f"{name} cannot be a past date")


def _match(members: Mapping[int, Member], name: str, value: str) -> Member | None:
    for member in members.values():
        known = member.info.identifiers.get(name)
        if known is None:
            continue
        # Email addresses are case-insensitive in practice; the other identifiers are exact.
        if known == value or (name == "email" and known.lower() == value.lower()):
            return member
    return None
