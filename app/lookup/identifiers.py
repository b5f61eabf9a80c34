"""The lookup's names for the shared identifier rules (app/identifiers.py)."""

from app.identifiers import (
    CUSTOMER_ID,
    IDENTIFIER_TYPES,
    MAX_CUSTOMER_ID,
    InvalidIdentifier,
    check_characters,
    clean,
    mask,
)

__all__ = [
    "CUSTOMER_ID",
    "IDENTIFIER_TYPES",
    "MAX_CUSTOMER_ID",
    "InvalidIdentifier",
    "check_characters",
    "clean",
    "mask",
]
