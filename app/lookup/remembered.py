"""What this browser session remembers of its last lookup, for the member page it leads to.

Only words already shown to the staff member who typed them (the masked identifier, the kind
that matched, the reason chosen): never the identifier itself.
"""

from __future__ import annotations

from typing import Any

from flask import session

SESSION_KEY = "looked_up"
FROM_A_LINK = "Capillary customer id (opened from a link)"


def remember(member_id: int, what: str, *, found_by: str | None, reason: str | None) -> None:
    """Keep what the member page says about how this member was found."""
    session[SESSION_KEY] = {
        "member_id": member_id,
        "what": what,
        # Said on the page when the kind was worked out, so a wrong guess shows at once.
        "found_by": found_by,
        "reason": reason,
    }


def _about(member_id: int) -> dict[str, Any]:
    remembered = session.get(SESSION_KEY)
    if remembered and remembered.get("member_id") == member_id:
        return remembered
    return {}


def looked_up(member_id: int) -> str:
    """What this staff member typed to find the member, masked; or that a link was opened."""
    return _about(member_id).get("what") or FROM_A_LINK


def found_by(member_id: int) -> str | None:
    """The kind that matched, when the staff member let Points Desk work it out."""
    return _about(member_id).get("found_by")


def reason_for(member_id: int) -> str | None:
    """The reason given for this session's lookup of the member: its other views share it."""
    return _about(member_id).get("reason")


def give_reason(member_id: int, reason: str) -> None:
    """Keep the reason given on the member page for this session's lookup of the member."""
    about = _about(member_id)
    if about:
        session[SESSION_KEY] = {**about, "reason": reason}
    else:
        remember(member_id, FROM_A_LINK, found_by=None, reason=reason)
