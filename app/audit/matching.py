"""A typed identifier read as the lookup form reads it, and the member it was recorded against.

Lookups are recorded with the HMAC of the value sent upstream ("919800000001"), so a typed
"98000 00001" must go through the same readings (app/identifier_readings.py) before hashing.
A member looked up by mobile was also looked up by card, email or link: once the identifier
names a member, every lookup recorded against that member counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import ColumnElement, false, or_, select

from app.audit.models import AuditRecord
from app.audit.service import identifier_hash
from app.extensions import db
from app.identifier_readings import detect
from app.identifiers import InvalidIdentifier

_DIGEST = re.compile(r"[0-9a-f]{64}\Z")
MAX_HASHES = 4  # a typed value has at most a few readings (mobile or customer id, card cases)


def typed_hashes(typed: str) -> list[str]:
    """The HMACs of every reading the lookup form would make of what was typed."""
    try:
        values = [c.value for c in detect(typed, current_app.config["LOOKUP_DEFAULT_COUNTRY_CODE"])]
    except InvalidIdentifier:
        values = [typed]  # never looked up as such, but an old record may hold it literally
    return list(dict.fromkeys(identifier_hash(value) for value in values))


def link_hashes(values: Sequence[str]) -> list[str] | None:
    """The identifier_hash values a link carries, lower-cased; None when one is damaged."""
    found = [value.strip().lower() for value in values if value.strip()]
    if len(found) > MAX_HASHES or not all(_DIGEST.match(value) for value in found):
        return None
    return list(dict.fromkeys(found))


def resolved_members(hashes: Sequence[str]) -> list[int]:
    """The members lookups by these identifiers were recorded against, in id order."""
    if not hashes:
        return []
    query = (
        select(AuditRecord.member_id)
        .where(AuditRecord.identifier_hash.in_(hashes), AuditRecord.member_id.is_not(None))
        .distinct()
        .order_by(AuditRecord.member_id)
    )
    return [member_id for member_id in db.session.scalars(query) if member_id is not None]


def identifier_match(hashes: Sequence[str], members: Sequence[int]) -> ColumnElement[bool]:
    """Records of the identifier itself (found or not) or of any member it resolved to."""
    if not hashes:
        return false()
    matches = [AuditRecord.identifier_hash.in_(hashes)]
    if members:
        matches.append(AuditRecord.member_id.in_(members))
    return or_(*matches)
