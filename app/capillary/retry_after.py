"""The Retry-After header of an answer: a delay in seconds or an HTTP-date (RFC 9110 10.2.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Longer than any pause the desk would take anyway (see app/lookup/budget/counts.py's cap), so a
# huge number cannot overflow anything on the way.
_MAX_DIGITS = 9


def parse_retry_after(value: str | None) -> tuple[float | None, datetime | None]:
    """(seconds, None) for a delay, (None, moment in UTC) for a date, (None, None) otherwise."""
    if value is None:
        return None, None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return (float(text), None) if len(text) <= _MAX_DIGITS else (float(10**_MAX_DIGITS), None)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None, None
    if moment.tzinfo is None:
        # RFC 9110: an HTTP-date is always GMT; "-0000" parses as naive.
        moment = moment.replace(tzinfo=UTC)
    return None, moment.astimezone(UTC)
