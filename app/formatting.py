"""Jinja filters that display points and times: Decimal in, locale-grouped text out."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Flask, current_app

MISSING = "—"


def format_points(value: Decimal | None, locale: str | None = None) -> str:
    """'8500.000' -> '8,500'; '390.500' -> '390.5'; grouping by locale (en_IN: 1,23,456)."""
    if value is None:
        return MISSING
    locale = locale or current_app.config["NUMBER_LOCALE"]
    # decimal_quantization=False keeps every significant decimal and adds no float noise.
    return format_decimal(value, locale=locale, decimal_quantization=False)


def zone_label(moment: datetime) -> str:
    """'IST, UTC+05:30' for a named zone, 'UTC+05:30' for a bare offset, 'UTC' for UTC."""
    offset = moment.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        numeric = "UTC"
    else:
        sign = "+" if offset > timedelta(0) else "-"
        minutes = abs(int(offset.total_seconds())) // 60
        numeric = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    name = moment.tzname() or ""
    if name.isalpha() and name != "UTC":
        return f"{name}, {numeric}"
    return numeric


def format_datetime(moment: datetime | None, seconds: bool = False) -> str:
    """'16 Dec 2026, 00:00 (IST, UTC+05:30)': always with its zone."""
    if moment is None:
        return MISSING
    pattern = "%d %b %Y, %H:%M:%S" if seconds else "%d %b %Y, %H:%M"
    return f"{moment.strftime(pattern)} ({zone_label(moment)})"


def format_date(day: date | None) -> str:
    """'Wed 16 Dec 2026'."""
    if day is None:
        return MISSING
    return day.strftime("%a %d %b %Y")


def register_filters(app: Flask) -> None:
    """Make the filters available to every template."""
    app.add_template_filter(format_points, "points")
    app.add_template_filter(format_datetime, "datetime_tz")
    app.add_template_filter(format_date, "long_date")
    app.add_template_filter(zone_label, "zone")
