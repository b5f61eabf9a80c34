"""The database cannot be reached: a 503 page saying so, and one log line, not a traceback."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.extensions import db, login_manager

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# Connection refused, name not found, server gone, file not openable (OperationalError);
# a connection that died under us (InterfaceError); no pooled connection free in time.
UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)


def handle_unreachable(error: Exception) -> tuple[str, int, dict[str, str]]:
    """Answer 503 "try again shortly"; log the failure's class, never its message (the
    message can hold the statement's text and the server's address)."""
    cause = getattr(error, "orig", None) or error
    logger.error(
        "Database unreachable (%s: %s); answered 503",
        type(error).__name__,
        type(cause).__name__,
    )
    try:
        db.session.rollback()
    except UNREACHABLE:
        pass
    # The page's header asks who is signed in; the loader would go to the database again.
    g._login_user = login_manager.anonymous_user()
    page = render_template("errors/503_database.html", code=503)
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register(app: Flask) -> None:
    """Route every unreachable-database failure, from any view or hook, to the 503 page."""
    for error_class in UNREACHABLE:
        app.register_error_handler(error_class, handle_unreachable)
