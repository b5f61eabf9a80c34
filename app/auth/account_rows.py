"""The signed-in staff member's account row, read from the database at most every few seconds.

Every request needs it: the guard checks that the account is still active, unlocked and on the
session version its cookie names. A lookup is two requests (the POST and the page it redirects
to), and on a busy desk that query was a tenth of the app's CPU. So each process keeps the row's
columns for AUTH_RECHECK_SECONDS and rebuilds the account from them; a change this process makes
to an account (disable, lock, role, password) forgets the copy at once, and a change made by
another process or server is seen within AUTH_RECHECK_SECONDS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import make_transient_to_detached

from app.auth.models import StaffUser
from app.extensions import db

EXTENSION = "account_rows"


class AccountRows:
    """Column values of recently read accounts, by row id, each kept for `seconds`."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._rows: dict[int, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def load(self, row_id: int) -> StaffUser | None:
        """The account, as a persistent object of this request's session; None if absent."""
        now = self._monotonic()
        with self._lock:
            kept = self._rows.get(row_id)
        if kept is not None and kept[0] > now:
            present = db.session.identity_map.get(db.session.identity_key(StaffUser, row_id))
            if present is not None:
                return present  # this request's session has it already
            user = StaffUser(**kept[1])
            # As if just loaded: clean, its key set, then attached as it is (a merge would
            # copy it into a second new object).
            make_transient_to_detached(user)
            db.session.add(user)
            return user
        user = db.session.get(StaffUser, row_id)
        if user is not None and self.seconds > 0:
            columns = {a.key: getattr(user, a.key) for a in inspect(StaffUser).column_attrs}
            with self._lock:
                self._rows[row_id] = (now + self.seconds, columns)
        return user

    def forget(self, row_id: int) -> None:
        """Drop the copy of one account (it changed)."""
        with self._lock:
            self._rows.pop(row_id, None)


def account_rows() -> AccountRows:
    """This app's kept account rows."""
    return current_app.extensions[EXTENSION]


@event.listens_for(StaffUser, "after_update")
@event.listens_for(StaffUser, "after_delete")
def _forget_changed(_mapper: object, _connection: object, target: StaffUser) -> None:
    rows = current_app.extensions.get(EXTENSION)
    if rows is not None:
        rows.forget(target.id)


def init_app(app: Flask) -> None:
    """Give the app its kept account rows."""
    app.extensions[EXTENSION] = AccountRows(float(app.config["AUTH_RECHECK_SECONDS"]))
