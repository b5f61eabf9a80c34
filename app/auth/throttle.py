"""Throttle failed sign-ins per account name and per client address, in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.models import LoginAttempt
from app.dbtypes import utcnow
from app.extensions import db


def _window_start() -> datetime:
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def _failures(column: InstrumentedAttribute[str], value: str) -> int:
    query = select(func.count(LoginAttempt.id)).where(
        column == value,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= _window_start(),
    )
    return db.session.scalar(query) or 0


def is_locked(username: str, address: str) -> bool:
    """True when the account name or the address has too many recent failures.

    Counted by the name typed, whether or not such an account exists, so the answer
    says nothing about which accounts exist.
    """
    config = current_app.config
    return (
        _failures(LoginAttempt.username, username[:64]) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _failures(LoginAttempt.address, address[:64]) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


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
