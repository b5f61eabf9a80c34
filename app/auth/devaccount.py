"""In development only: make sure a fresh clone's `make run` has someone to sign in as."""

from __future__ import annotations

import logging
import secrets

import click
from flask import Flask
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from app.auth.models import StaffUser
from app.extensions import db

logger = logging.getLogger(__name__)

DEV_ACCOUNT = "dev-admin"
HOW_TO_ADD = "Create your own account with: flask --app app users add NAME --role admin"


def register(app: Flask) -> None:
    """In debug mode only, check for a first account when the first request comes in.

    On the first request rather than at start-up, so that other debug-mode commands
    (`flask --debug users add`, `db upgrade`) never create it.
    """
    if not app.debug or app.testing or app.config["AUTH_MODE"] != "local":
        return
    done: list[bool] = []

    def first_request() -> None:
        if not done:
            done.append(True)
            ensure_dev_account(app)

    # First in line: the sign-in guard answers anonymous requests with a redirect, and
    # nothing registered after it would run.
    app.before_request_funcs.setdefault(None, []).insert(0, first_request)


def ensure_dev_account(app: Flask) -> None:
    """With no staff accounts at all, create `dev-admin` and show its password once."""
    with app.app_context():
        try:
            if not inspect(db.engine).has_table(StaffUser.__tablename__):
                logger.warning("No database schema yet: run `flask --app app db upgrade`.")
                return
            if db.session.scalar(select(func.count(StaffUser.id))):
                return
            password = secrets.token_urlsafe(12)
            user = StaffUser(username=DEV_ACCOUNT, role="admin", active=True, session_version=0)
            user.set_password(password, app.config["PASSWORD_HASH_METHOD"])
            db.session.add(user)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            logger.exception("Could not check for or create the development account")
            return
    # Straight to the developer's console, not into the log stream: it is a credential.
    click.echo(
        f"\n  Development only: no staff accounts existed, so {DEV_ACCOUNT!r} (admin) was "
        f"created.\n  Sign in as {DEV_ACCOUNT} with password: {password}\n  {HOW_TO_ADD}\n",
        err=True,
    )
