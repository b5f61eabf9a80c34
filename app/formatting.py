"""Jinja filters that display points, dates and times: Decimal in, locale-formatted text out.

Numbers, dates and plurals go through Babel, in the locale of NUMBER_LOCALE.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_timedelta
from babel.numbers import format_decimal
from flask import Flask, current_app, has_app_context

MISSING = "—"
# A balance figure the answer left out and the others do not fix (capillary-api.md 7.1).
NOT_KNOWN = "not known"
FALLBACK_LOCALE = "en_US"
DATE_PATTERN = "EEE d MMM y"  # Fri 11 Dec 2026
SHORT_DATE_PATTERN = "d MMM y"  # 22 Nov 2022
MONTH_PATTERN = "MMMM y"  # December 2026
TICK_PATTERN = "MMM"  # Dec
# Far above any real count: Babel then keeps the unit asked for ("in 45 days", never
# "in 2 months"), which is what an agent reads aloud.
EXACT_UNIT = 10**9


def _locale(locale: str | None) -> str:
    if locale:
        return locale
    return current_app.config["NUMBER_LOCALE"] if has_app_context() else FALLBACK_LOCALE


def format_points(value: Decimal | None, locale: str | None = None) -> str:
    """'8500.000' -> '8,500'; '390.500' -> '390.5'; grouping by locale (en_IN: 1,23,456)."""
    if value is None:
        return MISSING
    return _format_decimal(value, _locale(locale))


def format_figure(value: Decimal | None, locale: str | None = None) -> str:
    """A balance figure: formatted points, or "not known" when there is none."""
    return NOT_KNOWN if value is None else format_points(value, locale)


# Babel re-reads the locale's pattern on every call, which dominated rendering a long
# timeline; points values repeat a lot, and equal Decimals format alike, so remember them.
@lru_cache(maxsize=16_384)
def _format_decimal(value: Decimal, locale: str) -> str:
    # decimal_quantization=False keeps every significant decimal and adds no float noise.
    return format_decimal(value, locale=locale, decimal_quantization=False)


def zone_label(moment: datetime) -> str:
    """'IST, UTC+05:30' for a named zone, 'UTC+05:30' for a bare offset, 'UTC' for UTC."""
    return _zone_label(moment.utcoffset() or timedelta(0), moment.tzname() or "")


@lru_cache(maxsize=256)
def _zone_label(offset: timedelta, name: str) -> str:
    if offset == timedelta(0):
        numeric = "UTC"
    else:
        sign = "+" if offset > timedelta(0) else "-"
        minutes = abs(int(offset.total_seconds())) // 60
        numeric = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    if name.isalpha() and name != "UTC":
        return f"{name}, {numeric}"
    return numeric


def same_zone(first: datetime, second: datetime) -> bool:
    """Whether two moments read the same on a clock: then one zone label is enough."""
    return first.utcoffset() == second.utcoffset()


def format_datetime(
    moment: datetime | None, seconds: bool = False, locale: str | None = None
) -> str:
    """'16 Dec 2026, 00:00 (IST, UTC+05:30)': always with its zone."""
    if moment is None:
        return MISSING
    pattern = "d MMM y, HH:mm:ss" if seconds else "d MMM y, HH:mm"
    shown = babel_format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=_locale(locale))
    return f"{shown} ({zone_label(moment)})"


def format_time(moment: datetime, locale: str | None = None) -> str:
    """'00:00 (IST, UTC+05:30)': the time of day with its zone."""
    shown = babel_format_datetime(moment, "HH:mm", tzinfo=moment.tzinfo, locale=_locale(locale))
    return f"{shown} ({zone_label(moment)})"


def format_date(day: date | None, locale: str | None = None) -> str:
    """'Wed 16 Dec 2026'."""
    if day is None:
        return MISSING
    return _format_date(day, DATE_PATTERN, _locale(locale))


def format_short_date(day: date, locale: str | None = None) -> str:
    """'22 Nov 2022'."""
    return _format_date(day, SHORT_DATE_PATTERN, _locale(locale))


def format_month(day: date, locale: str | None = None) -> str:
    """'December 2026'."""
    return _format_date(day, MONTH_PATTERN, _locale(locale))


def format_tick(day: date, locale: str | None = None, with_year: bool = False) -> str:
    """'Dec', or with the year: 'Jan 2027'."""
    return _format_date(day, "MMM y" if with_year else TICK_PATTERN, _locale(locale))


@lru_cache(maxsize=4096)
def _format_date(day: date, pattern: str, locale: str) -> str:
    return babel_format_date(day, pattern, locale=locale)


def days_from_today(days: int, locale: str | None = None) -> str:
    """'today', 'tomorrow', 'in 7 days'; past days read '3 days ago'."""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return format_timedelta(
        timedelta(days=days),
        granularity="day",
        threshold=EXACT_UNIT,
        add_direction=True,
        locale=_locale(locale),
    )


def age_text(seconds: int, locale: str | None = None) -> str:
    """'just now', '1 second ago', '42 seconds ago', '1 minute ago', '3 hours ago'."""
    if seconds < 1:
        return "just now"
    # threshold=1: 59 seconds stay seconds; a minute and over reads in minutes, and so on.
    return format_timedelta(
        timedelta(seconds=-seconds), threshold=1, add_direction=True, locale=_locale(locale)
    )


def count(number: int, one: str, other: str, locale: str | None = None) -> str:
    """'1 date', '3 dates': the locale's plural rule picks the word, Babel writes the number."""
    chosen = _plural_form(number, _locale(locale))
    return f"{format_decimal(number, locale=_locale(locale))} {one if chosen == 'one' else other}"


@lru_cache(maxsize=4096)
def _plural_form(number: int, locale: str) -> str:
    return Locale.parse(locale).plural_form(number)


def format_date_range(start: date | None, end: date | None) -> str:
    """'Wed 16 Dec 2026 to any time': an open end reads as from now / any time."""
    return (
        f"{format_date(start) if start else 'from now'} to "
        f"{format_date(end) if end else 'any time'}"
    )


def _params_date_range(params: object) -> str:
    # Anything with start_date and end_date: the lookup's parameters.
    return format_date_range(getattr(params, "start_date", None), getattr(params, "end_date", None))


def iso(value: date | datetime) -> str:
    """A machine-readable date or time (ISO 8601), for data attributes and <time datetime>."""
    return value.isoformat()


def register_filters(app: Flask) -> None:
    """Make the filters available to every template."""
    locale = app.config["NUMBER_LOCALE"]

    def points(value: Decimal | None) -> str:
        # Bound to this app's locale: a long timeline calls it thousands of times.
        return format_points(value, locale)

    from app.auth.preferences import in_viewer_zone

    def long_date(day: date | None) -> str:
        return format_date(day, locale)

    def datetime_tz(moment: datetime | None, seconds: bool = False) -> str:
        # Every time on every page in the signed-in staff member's chosen zone.
        return format_datetime(in_viewer_zone(moment) if moment else None, seconds)

    def figure(value: Decimal | None) -> str:
        return format_figure(value, locale)

    def time_zones() -> dict[str, str]:
        # The one rule (README, account page): the member's points dates in the program's
        # zone, every moment of staff activity (as of, trails, reports) in the viewer's.
        from app.auth.preferences import filter_zone, viewer_zone
        from app.clock import business_zone

        return {
            "program": business_zone(app.config).key,
            "viewer": filter_zone().key,
            "chosen": "yes" if viewer_zone() is not None else "",  # else times stay as stored
        }

    app.add_template_global(time_zones)
    app.add_template_filter(points, "points")
    app.add_template_filter(figure, "figure")
    app.add_template_filter(datetime_tz, "datetime_tz")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(format_short_date, "short_date")
    app.add_template_filter(format_month, "month_name")
    app.add_template_filter(count, "count")
    app.add_template_filter(format_time, "time_tz")
    app.add_template_filter(_params_date_range, "date_range")
    app.add_template_filter(zone_label, "zone")
    app.add_template_filter(iso, "iso")
