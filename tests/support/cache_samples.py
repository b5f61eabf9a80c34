"""Outcomes with every awkward value a cache must carry exactly: Decimal digits and signs,
zones with odd offsets, every error class. Shared by the cache suites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.capillary import errors
from app.capillary.models import (
    Balance,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
    UpstreamMessage,
)

IST = ZoneInfo("Asia/Kolkata")
NEWFOUNDLAND = timezone(timedelta(hours=-3, minutes=-30))

BALANCE = Balance(
    entity_id=565039505,
    entity_type="CUSTOMER",
    total_points=Decimal("8890.500"),
    main_points=Decimal("8500.000"),
    promised_points=Decimal("390.5"),
    delayed_accrual_points=Decimal("0.1000000000000000055511151231257827"),
    external_trigger_points=Decimal("-0"),
    program_id=2199,
    warnings=(UpstreamMessage(91001, "Some point details could not be fetched"),),
    request_id="req-1",
)
SCHEDULE = PromisedSchedule(
    entity_id=565039505,
    entity_type="FLEET",
    entries=(
        ScheduleEntry(Decimal("100.25"), datetime(2026, 12, 16, 0, 0, tzinfo=IST), 2199, "x"),
        ScheduleEntry(
            Decimal("1E+3"),
            datetime(2027, 3, 1, 9, 30, tzinfo=NEWFOUNDLAND),
            1933,
            "bill_promotions",
            "SLAB",
        ),
        ScheduleEntry(Decimal("7"), datetime(2027, 1, 1, tzinfo=UTC), 890, "line_item_regular"),
    ),
    triggers=(TriggerEntry(Decimal("55.5"), 2199, "customer_promotions"),),
    warnings=(UpstreamMessage(None, "no code"),),
    request_id=None,
)
ERRORS = [
    errors.CapillaryError("base", code=1, status=2, request_id="r"),
    errors.UpstreamUnavailable("down", status=503),
    errors.UpstreamTimeout("page deadline passed"),
    errors.MalformedResponse("cut", status=200, request_id="r2"),
    errors.UpstreamApiError("odd", code=9999, status=400),
    errors.MemberNotFound("nope", code=8015, status=200, request_id="r3"),
    errors.InvalidProgram("prog", code=885),
    errors.InvalidDate("date", code=1215),
    errors.AccessDenied("denied", status=401),
]
