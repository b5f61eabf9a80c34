"""The database cannot be reached: a 503 page saying so, and one log line, not a traceback."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
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


def end_session_quietly(_error: BaseException | None = None) -> None:
    """End the request's database session; a connection that died meanwhile is logged in one
    line (no path, no statement) instead of failing the request after its answer.

    Registered after Flask-SQLAlchemy's own teardown, so it runs first: the session it leaves
    is empty, and that teardown then has nothing to roll back.
    """
    try:
        db.session.remove()
    except (*UNREACHABLE, DBAPIError) as exc:
        cause = getattr(exc, "orig", None) or exc
        logger.error(
            "Database connection lost while ending a request (%s: %s)",
            type(exc).__name__,
            type(cause).__name__,
        )
        # The failed close left the session in the registry: drop it, connection and all.
        db.session.registry.clear()


def register(app: Flask) -> None:
    """Route every unreachable-database failure, from any view or hook, to the 503 page, and
    never let one at the request's end turn its answer into a 500."""
    for error_class in UNREACHABLE:
        app.register_error_handler(error_class, handle_unreachable)
    app.teardown_appcontext(end_session_quietly)
