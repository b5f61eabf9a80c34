"""Cleaning and masking of members' identifiers as staff type them (lookup and audit alike)."""

from __future__ import annotations

import re
import unicodedata

# Form choice value -> upstream identifierName. "customer_id" is the Capillary id (path form).
IDENTIFIER_TYPES: dict[str, str] = {
    "mobile": "Mobile number",
    "email": "Email address",
    "externalId": "External id",
    "cardnumber": "Card number",
    "customer_id": "Capillary customer id",
}
CUSTOMER_ID = "customer_id"
MAX_CUSTOMER_ID = 2**63 - 1  # the upstream types userId as int64

_MOBILE_DECORATION = re.compile(r"[\s\-().]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidIdentifier(ValueError):
    """The value cannot be an identifier of the chosen type; the message says why."""


def _reject_unprintable(value: str) -> None:
    for char in value:
        # Cc: control (CR, LF, NUL), Cf: format (right-to-left override), Co/Cs: private/surrogate.
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs"):
            raise InvalidIdentifier("contains characters that cannot be part of an identifier")


def check_characters(value: str) -> None:
    """Refuse control characters and commas, whatever the kind (raise InvalidIdentifier)."""
    _reject_unprintable(value)
    if "," in value:
        # The upstream splits identifierValue on commas (it carries dual-eligibility pairs).
        raise InvalidIdentifier("an identifier cannot contain a comma")


def clean(identifier_type: str, raw: str) -> str:
    """Return the identifier in the form the upstream expects, or raise InvalidIdentifier."""
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("enter a value")
    check_characters(value)
    if identifier_type == "mobile":
        digits = _MOBILE_DECORATION.sub("", value)
        digits = digits.removeprefix("+")
        if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 15:
            raise InvalidIdentifier(
                "enter a mobile number of 6 to 15 digits; spaces, dashes, brackets "
                "and a leading + are fine"
            )
        return digits
    if identifier_type == "email":
        if len(value) > 254 or not _EMAIL.match(value):
            raise InvalidIdentifier("enter an email address like name@example.com")
        return value
    if identifier_type == CUSTOMER_ID:
        if not value.isascii() or not value.isdigit():
            raise InvalidIdentifier("a customer id is digits only")
        # Checked before int(): Python refuses to convert strings of over 4,300 digits.
        if len(value.lstrip("0")) > len(str(MAX_CUSTOMER_ID)):
            raise InvalidIdentifier("that is not a valid customer id")
        number = int(value.lstrip("0") or "0")
        if not 0 < number <= MAX_CUSTOMER_ID:
            raise InvalidIdentifier("that is not a valid customer id")
        return str(number)
    if identifier_type in ("externalId", "cardnumber"):
        if len(value) > 100:
            raise InvalidIdentifier("an identifier is at most 100 characters")
        return value
    raise InvalidIdentifier("choose an identifier type from the list")


def mask(value: str, visible: int = 4) -> str:
    """Hide all but the last characters: '919800000001' -> '••••••••0001'.

    Short values show less, so that at least two thirds of any identifier stays hidden.
    """
    shown = min(visible, len(value) // 3)
    return "•" * (len(value) - shown) + value[len(value) - shown :]
