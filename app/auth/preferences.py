"""Each staff member's display time zone: every time on every page is shown in it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, g, has_request_context

from app.auth.access import current_staff
from app.auth.models import StaffPreference
from app.extensions import db

_UNSET = object()


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone the server knows, sorted, for the picker."""
    return tuple(sorted(available_timezones()))


def chosen_zone_name(username: str) -> str | None:
    """The zone the staff member chose, or None."""
    preference = db.session.get(StaffPreference, username)
    return preference.timezone if preference else None


def save_zone(username: str, name: str | None) -> None:
    """Remember the staff member's zone (None: the desk's default); the caller commits."""
    preference = db.session.get(StaffPreference, username) or StaffPreference(username=username)
    preference.timezone = name
    db.session.add(preference)
    g.pop("viewer_zone", None)


def desk_zone() -> ZoneInfo | None:
    """The desk's default display zone (DISPLAY_TIMEZONE), or None."""
    name = current_app.config.get("DISPLAY_TIMEZONE")
    return ZoneInfo(name) if name else None


def viewer_zone() -> ZoneInfo | None:
    """The signed-in staff member's zone, else the desk's; None when neither is set.

    Read once per request (the member page asks for every time it shows).
    """
    if not has_request_context():
        return desk_zone()
    cached = g.get("viewer_zone", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    staff = current_staff()
    name = chosen_zone_name(staff.username) if staff is not None else None
    zone = ZoneInfo(name) if name else desk_zone()
    g.viewer_zone = zone
    return zone


def filter_zone() -> ZoneInfo:
    """The zone dates typed into filters mean: the one times are shown in, else UTC."""
    return viewer_zone() or ZoneInfo("UTC")


def in_viewer_zone(moment: datetime) -> datetime:
    """moment in the viewer's zone (unchanged when there is none)."""
    zone = viewer_zone()
    return moment.astimezone(zone) if zone is not None else moment
