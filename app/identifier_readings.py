"""Which kinds of identifier a typed value can be, in the order worth trying them.

Shared by the lookup form and the audit pages, so both read a typed value the same way.

Shape decides where it can: an @ is an email; a +, spaces or dashes around digits, or a
leading 0, make a mobile. Bare digits may be a mobile or a Capillary customer id, and letters
with digits a card number or an external id: those give several candidates, tried in turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app import identifiers
from app.identifiers import CUSTOMER_ID, InvalidIdentifier

AUTO = "auto"
AUTO_LABEL = "Work it out from what I type"
# A number this long or shorter is taken as national: the default country code goes first.
NATIONAL_MAX_DIGITS = 10
MOBILE_MIN_DIGITS, MOBILE_MAX_DIGITS = 6, 15  # E.164 allows 15 digits with the country code
# The kinds in a sentence: "found by mobile number", "no member has this card number".
KIND_WORDS = {
    "mobile": "mobile number",
    "email": "email address",
    "externalId": "external id",
    "cardnumber": "card number",
    CUSTOMER_ID: "Capillary customer id",
}
_MOBILE_DECORATION = re.compile(r"[\s\-().]")
_HAS_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to read the typed value: an identifier kind and the value to send upstream."""

    kind: str
    value: str
    country_code_added: str | None = None  # the default country code put in front, if any

    @property
    def label(self) -> str:
        """'Mobile number', 'Card number', ..."""
        return identifiers.IDENTIFIER_TYPES[self.kind]

    @property
    def words(self) -> str:
        """'mobile number', 'Capillary customer id': the kind inside a sentence."""
        return KIND_WORDS[self.kind]


def _unique(candidates: list[Candidate]) -> tuple[Candidate, ...]:
    seen: dict[tuple[str, str], Candidate] = {}
    for candidate in candidates:
        seen.setdefault((candidate.kind, candidate.value), candidate)
    return tuple(seen.values())


def mobile(raw: str, country_code: str) -> Candidate:
    """A mobile in the upstream's form: digits with the country code, no + or spaces."""
    value = raw.strip()
    digits = _MOBILE_DECORATION.sub("", value)
    international = digits.startswith(("+", "00"))
    # "+91..." and "0091..." both carry the country code; the upstream wants bare digits.
    digits = digits[1:] if digits.startswith("+") else digits.removeprefix("00")
    if not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier(
            "enter a mobile number of 6 to 15 digits; spaces, dashes, brackets "
            "and a leading + are fine"
        )
    added = None
    if not international and (digits.startswith("0") or len(digits) <= NATIONAL_MAX_DIGITS):
        # A trunk 0 or a national number: the member's number is in the default country.
        digits = country_code + digits.lstrip("0")
        added = country_code
    if not MOBILE_MIN_DIGITS <= len(digits) <= MOBILE_MAX_DIGITS:
        raise InvalidIdentifier(
            "enter a mobile number of 6 to 15 digits; spaces, dashes, brackets "
            "and a leading + are fine"
        )
    return Candidate("mobile", digits, added)


def _cards(value: str) -> list[Candidate]:
    # Card numbers are printed in capitals; a lower-case copy from a call is the same card.
    cleaned = identifiers.clean("cardnumber", value)
    return [Candidate("cardnumber", cleaned), Candidate("cardnumber", cleaned.upper())]


def explicit(kind: str, raw: str, country_code: str) -> tuple[Candidate, ...]:
    """The candidates for a kind the staff member chose: one, or a card number's two cases."""
    if kind == "mobile":
        identifiers.clean("mobile", raw)  # the same checks and message as before
        return (mobile(raw, country_code),)
    if kind == "cardnumber":
        return _unique(_cards(raw))
    return (Candidate(kind, identifiers.clean(kind, raw)),)


def detect(raw: str, country_code: str) -> tuple[Candidate, ...]:
    """Every plausible reading of what was typed, most likely first; InvalidIdentifier if none."""
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("enter a value")
    identifiers.check_characters(value)
    if "@" in value:
        return (Candidate("email", identifiers.clean("email", value)),)
    bare = _MOBILE_DECORATION.sub("", value)
    decorated = bare != value or bare.startswith(("+", "0"))
    if bare.removeprefix("+").isascii() and bare.removeprefix("+").isdigit():
        if decorated:
            return (mobile(value, country_code),)
        return _digits(bare, country_code)
    if _HAS_LETTER.search(value):
        if len(value) > 100:
            raise InvalidIdentifier("an identifier is at most 100 characters")
        return _unique([*_cards(value), Candidate("externalId", value)])
    raise InvalidIdentifier(
        "this does not look like an email, mobile, card number, external id or customer id; "
        "choose the kind from the list"
    )


def _digits(digits: str, country_code: str) -> tuple[Candidate, ...]:
    """Bare digits: a mobile or a customer id; the length says which is likelier."""
    found: list[Candidate]
    as_mobile = None
    if MOBILE_MIN_DIGITS <= len(digits) <= MOBILE_MAX_DIGITS:
        try:
            as_mobile = mobile(digits, country_code)
        except InvalidIdentifier:
            as_mobile = None
    as_customer = None
    try:
        as_customer = Candidate(CUSTOMER_ID, identifiers.clean(CUSTOMER_ID, digits))
    except InvalidIdentifier:
        as_customer = None
    # Mobiles have 10 digits or more (with or without the country code); ids are shorter.
    if len(digits) >= NATIONAL_MAX_DIGITS:
        found = [c for c in (as_mobile, as_customer) if c]
    else:
        found = [c for c in (as_customer, as_mobile) if c]
    if not found:
        raise InvalidIdentifier("this number is too long for a mobile (15 digits) or a customer id")
    return _unique(found)
