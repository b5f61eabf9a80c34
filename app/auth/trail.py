"""The admin trail: who changed which staff account, how, and when."""

from __future__ import annotations

import logging

from app.auth.access import current_staff
from app.auth.models import StaffEvent
from app.dbtypes import utcnow
from app.extensions import db

logger = logging.getLogger(__name__)

# Who a change is recorded against when no one is signed in: the shell, or the account's
# own setup link.
COMMAND_LINE = "(command line)"


def note(action: str, target: str, detail: str = "", actor: str | None = None) -> StaffEvent:
    """Add one event to the session; it is committed with the change it describes."""
    if actor is None:
        staff = current_staff()
        actor = staff.username if staff is not None else COMMAND_LINE
    event = StaffEvent(at=utcnow(), actor=actor, action=action, target=target, detail=detail)
    db.session.add(event)
    logger.info("Staff change: %s %s %s %s", actor, action, target, detail)
    return event
