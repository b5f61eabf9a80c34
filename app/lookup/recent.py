"""Recent lookups: the last members a staff member opened, read from the audit trail.

Every member page shown writes an audit record (member id, program scope, dates) before it
is shown, so the list needs no store of its own and no write of its own. The audit trail
holds no identifier the staff member typed, so the list can be shown anywhere unmasked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.audit.models import AuditRecord
from app.audit.service import members_recently_shown
from app.extensions import db
from app.lookup.fetching.scope import LookupParams, program_from_text, scope_label

KEEP = 10


@dataclass(frozen=True, slots=True)
class RecentItem:
    """One line of the recent-lookups list."""

    member_id: int
    params: LookupParams
    scope_label: str
    opened_at: datetime


def _params(record: AuditRecord) -> LookupParams:
    program = program_from_text(record.program_scope)
    return LookupParams(program, record.start_date, record.end_date)


def recent_for(username: str, programs: Mapping[int, str]) -> list[RecentItem]:
    """The staff member's latest KEEP distinct members shown, newest first, as last viewed."""
    items = []
    for record in members_recently_shown(username, KEEP):
        params = _params(record)
        items.append(RecentItem(record.member_id, params, scope_label(params, programs), record.at))
    return items


def last_program(username: str) -> str | None:
    """The program scope of the staff member's last lookup ("all", "2199", "default"), the
    choice the lookup form starts on next; None before their first lookup."""
    query = (
        select(AuditRecord.program_scope)
        .where(
            AuditRecord.staff_username == username,
            AuditRecord.kind == "lookup",
            AuditRecord.program_scope != "none",  # refused before any program was read
        )
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)
