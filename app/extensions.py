"""Flask extension instances, created once here and bound to an app in create_app()."""

from __future__ import annotations

import sqlite3

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations can alter or drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model; carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: object, _record: object) -> None:
    """SQLite only: write-ahead log and NORMAL sync, so the audit write of every page costs
    a write, not an fsync, and readers never wait for a writer."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A writer waits its turn this long: every member page writes an audit record, and a
    # record that cannot be written refuses the lookup. 20 concurrent pages on a loaded
    # 2-core machine queued past 5 s once; a wait is better than a refused lookup.
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def rate_limit_key() -> str:
    """Rate-limit per signed-in staff member; fall back to the client address."""
    if current_user and current_user.is_authenticated:
        return f"staff:{current_user.username}"
    return f"addr:{request.remote_addr or 'unknown'}"


# Objects stay readable after a commit: every page commits an audit record and then reads
# the signed-in staff member again, which would otherwise cost a SELECT each time.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to carry on."
login_manager.login_message_category = "info"
# Drop the session if it turns up from a different address or browser.
login_manager.session_protection = "strong"
csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI ("memory://" by default, "redis://..." to share
# counts between app servers).
limiter = Limiter(key_func=rate_limit_key)
