"""The lookup's names for the shared identifier readings (app/identifier_readings.py)."""

from app.identifier_readings import (
    AUTO,
    AUTO_LABEL,
    KIND_WORDS,
    MOBILE_MAX_DIGITS,
    MOBILE_MIN_DIGITS,
    NATIONAL_MAX_DIGITS,
    Candidate,
    detect,
    explicit,
    mobile,
)

__all__ = [
    "AUTO",
    "AUTO_LABEL",
    "KIND_WORDS",
    "MOBILE_MAX_DIGITS",
    "MOBILE_MIN_DIGITS",
    "NATIONAL_MAX_DIGITS",
    "Candidate",
    "detect",
    "explicit",
    "mobile",
]
