"""Throttle failed sign-ins per account name and per client address, in the database.

Per account: LOGIN_MAX_FAILURES_PER_ACCOUNT failures in the window lock that name until they
age out or an admin runs unlock(). Per address: past LOGIN_MAX_FAILURES_PER_ADDRESS failures
the address is slowed down, not locked: one attempt per LOGIN_LOCKED_ADDRESS_DELAY_SECONDS,
each checked normally, so a whole office behind one NAT address can still sign in with the
right password while someone there guesses, and a guesser gets a few tries a minute.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.models import LoginAttempt, normalise_username
from app.dbtypes import utcnow
from app.extensions import db

logger = logging.getLogger(__name__)


def _window_start() -> datetime:
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def _failures(column: InstrumentedAttribute[str], value: str) -> int:
    query = select(func.count(LoginAttempt.id)).where(
        column == value,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= _window_start(),
    )
    return db.session.scalar(query) or 0


def is_locked(username: str) -> bool:
    """True when the account name has too many recent failures.

    Counted by the name typed, whether or not such an account exists, so the answer
    says nothing about which accounts exist.
    """
    limit = current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    return _failures(LoginAttempt.username, username[:64]) >= limit


def address_wait_seconds(address: str) -> int:
    """Seconds this address must wait before its next attempt is checked (0: go ahead)."""
    config = current_app.config
    if _failures(LoginAttempt.address, address[:64]) < config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return 0
    last = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.address == address[:64])
    )
    if last is None:
        return 0
    delay = timedelta(seconds=config["LOGIN_LOCKED_ADDRESS_DELAY_SECONDS"])
    left = (last + delay - utcnow()).total_seconds()
    return max(0, math.ceil(left))


def record_attempt(username: str, address: str, *, succeeded: bool) -> None:
    """Record one attempt; a success forgives that account's earlier failures."""
    if succeeded:
        db.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.username == username[:64], LoginAttempt.succeeded.is_(False)
            )
        )
    # Keep the table small: nothing older than the window matters any more.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < _window_start()))
    db.session.add(LoginAttempt(username=username[:64], address=address[:64], succeeded=succeeded))
    db.session.commit()


def unlock(username: str) -> int:
    """Forget the account name's failed sign-ins, so it can sign in at once; returns how many.

    One function for every way in (the `flask users unlock` command, an admin page).
    """
    name = normalise_username(username)[:64]
    cleared = db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.username == name, LoginAttempt.succeeded.is_(False))
    ).rowcount
    db.session.commit()
    logger.info("Sign-in lock cleared for %s (%d failed attempts)", name, cleared)
    return cleared or 0


def masked_name(typed: str) -> str:
    """A typed user name as it may appear in the log: a password typed into the name field
    must not land there, so only its first character and length are kept."""
    return f"{typed[:1]}*** ({len(typed)} characters)"
