"""Jinja filters that display points and times: Decimal in, locale-grouped text out."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_decimal
from flask import Flask, current_app

MISSING = "—"


def format_points(value: Decimal | None, locale: str | None = None) -> str:
    """'8500.000' -> '8,500'; '390.500' -> '390.5'; grouping by locale (en_IN: 1,23,456)."""
    if value is None:
        return MISSING
    return _format_decimal(value, locale or current_app.config["NUMBER_LOCALE"])


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


def format_datetime(moment: datetime | None, seconds: bool = False) -> str:
    """'16 Dec 2026, 00:00 (IST, UTC+05:30)': always with its zone."""
    if moment is None:
        return MISSING
    pattern = "%d %b %Y, %H:%M:%S" if seconds else "%d %b %Y, %H:%M"
    return f"{moment.strftime(pattern)} ({zone_label(moment)})"


@lru_cache(maxsize=4096)
def format_date(day: date | None) -> str:
    """'Wed 16 Dec 2026'."""
    if day is None:
        return MISSING
    return day.strftime("%a %d %b %Y")


def format_date_range(start: date | None, end: date | None) -> str:
    """'Wed 16 Dec 2026 to any time': an open end reads as from now / any time."""
    return (
        f"{format_date(start) if start else 'from now'} to "
        f"{format_date(end) if end else 'any time'}"
    )


def _params_date_range(params: object) -> str:
    # Anything with start_date and end_date: the lookup's parameters.
    return format_date_range(getattr(params, "start_date", None), getattr(params, "end_date", None))


def register_filters(app: Flask) -> None:
    """Make the filters available to every template."""
    locale = app.config["NUMBER_LOCALE"]

    def points(value: Decimal | None) -> str:
        # Bound to this app's locale: a long timeline calls it thousands of times.
        return format_points(value, locale)

    app.add_template_filter(points, "points")
    app.add_template_filter(format_datetime, "datetime_tz")
    app.add_template_filter(format_date, "long_date")
    app.add_template_filter(_params_date_range, "date_range")
    app.add_template_filter(zone_label, "zone")
