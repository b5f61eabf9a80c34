"""Each staff member's display time zone: every time on every page is shown in it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, g, has_request_context
from sqlalchemy import event

from app.auth.access import current_staff
from app.auth.models import StaffPreference
from app.extensions import db

_UNSET = object()
EXTENSION = "zone_choices"


class ZoneChoices:
    """Staff members' chosen zone names, by user name, each kept for `seconds`.

    Every page shows times, so every page read the choice from the database (a SELECT a
    request, a tenth of a member page's CPU). Kept as the account rows are
    (app/auth/account_rows.py): a choice saved in this process counts at once, one saved
    by another process or server within AUTH_RECHECK_SECONDS.
    """

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._names: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def name(self, username: str) -> str | None:
        """The zone the staff member chose, or None; from the database at most every
        `seconds`."""
        now = self._monotonic()
        with self._lock:
            kept = self._names.get(username)
        if kept is not None and kept[0] > now:
            return kept[1]
        name = chosen_zone_name(username)
        if self.seconds > 0:
            with self._lock:
                self._names[username] = (now + self.seconds, name)
        return name

    def forget(self, username: str) -> None:
        """Drop one staff member's kept choice (it changed)."""
        with self._lock:
            self._names.pop(username, None)


def zone_choices() -> ZoneChoices:
    """This app's kept zone choices (made on first use)."""
    choices = current_app.extensions.get(EXTENSION)
    if choices is None:
        seconds = float(current_app.config["AUTH_RECHECK_SECONDS"])
        choices = current_app.extensions.setdefault(EXTENSION, ZoneChoices(seconds))
    return choices


@event.listens_for(StaffPreference, "after_insert")
@event.listens_for(StaffPreference, "after_update")
@event.listens_for(StaffPreference, "after_delete")
def _forget_changed(_mapper: object, _connection: object, target: StaffPreference) -> None:
    choices = current_app.extensions.get(EXTENSION)
    if choices is not None:
        choices.forget(target.username)


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
    zone_choices().forget(username)
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
    name = zone_choices().name(staff.username) if staff is not None else None
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
