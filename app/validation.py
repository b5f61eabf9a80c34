"""Request values checked before any view hands them to the database.

PostgreSQL refuses a NUL in text (DataError, a 500) and control characters belong in no
field of this app, so a query or form value carrying one is answered with a 400 and a
message before any view runs; a page number or a date out of range likewise (see
page_number() and DateWithin). The lookup blueprint is left to its own form, which answers
the same input with a field error on the form (its audit trail records the refusal).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from flask import Flask, abort, request
from wtforms import Field, Form
from wtforms.validators import ValidationError

# Blueprints whose forms report bad characters themselves, next to the field.
OWN_VALIDATION = frozenset({"lookup"})
# The audit trail starts with this app; 2999 is far past any date a filter needs, and well
# inside what Python's date arithmetic and both databases accept.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)
MAX_PAGE = 100_000

CONTROL_MESSAGE = (
    "Something sent with this page contains a control character (such as a NUL byte), "
    "which no field here accepts. Go back, retype it and try again."
)


def has_control_character(text: str) -> bool:
    """True when text holds a C0/C1 control character (tab, CR and LF allowed)."""
    return any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text)


def reject_control_characters() -> None:
    """Before every request: a 400 for a control character in any query or form key or value."""
    if request.blueprint in OWN_VALIDATION:
        return
    for values in (request.args, request.form if request.method == "POST" else None):
        if values is None:
            continue
        for key, value in values.items(multi=True):
            if has_control_character(key) or has_control_character(value):
                abort(400, description=CONTROL_MESSAGE)


def page_number(args: Any, name: str = "page") -> int:
    """The page number in the query string (default 1), or a 400 saying what it must be."""
    raw = args.get(name)
    if raw is None or raw == "":
        return 1
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description=f"The page number must be a whole number from 1 to {MAX_PAGE:,}.")
    return int(raw)


class DateWithin:
    """A WTForms validator: the date lies between EARLIEST_DATE and LATEST_DATE."""

    def __init__(self, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE) -> None:
        self.earliest = earliest
        self.latest = latest

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and not self.earliest <= field.data <= self.latest:
            raise ValidationError(
                f"Enter a date between {self.earliest.isoformat()} and {self.latest.isoformat()}."
            )


class WholeNumberWithin:
    """A WTForms validator: the whole number lies between low and high.

    Compares integers only: WTForms' NumberRange first asks math.isnan(), which raises
    OverflowError (a 500) for an integer too large for a float, such as 400 typed nines.
    """

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and not self.low <= field.data <= self.high:
            raise ValidationError(f"Enter a whole number from {self.low} to {self.high}.")


def register(app: Flask) -> None:
    """Check every request's values before the sign-in guard and the views see them."""
    app.before_request_funcs.setdefault(None, []).insert(0, reject_control_characters)
