"""Staff accounts (local sign-in mode) and the sign-in attempts used for throttling."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

# In rising order of what they may do: agent (look up), manager (also read and export the
# audit trail), admin (also manage staff and read the admin trail).
ROLES = ("agent", "manager", "admin")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 12
# Stored instead of a hash while an account waits for its owner to set a password: no
# password hashes to it (werkzeug's hashes start with the method name).
NO_PASSWORD = "!unset"  # noqa: S105 (a marker, not a password)


def role_rank(role: str) -> int:
    """0 for agent, 1 for manager, 2 for admin; -1 for anything else (no access)."""
    return ROLES.index(role) if role in ROLES else -1


def normalise_username(name: str) -> str:
    """User names compare case-insensitively and without surrounding space."""
    return name.strip().lower()


class StaffUser(db.Model):
    """A staff account that signs in with a password (AUTH_MODE "local")."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when the password changes or the account is disabled: the session cookie
    # carries it, so every older session stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Locked by an admin: cannot sign in until unlocked (unlike active=False, "deactivated",
    # which is for people who left).
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # A one-time link to set a password (new account or an admin's reset): only its
    # SHA-256 is kept, with the moment it stops working.
    setup_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and not self.locked

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Session identity: the row id and the session version, e.g. "7.3"."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_role(self, role: str) -> bool:
        """True when this account's role is role or one above it."""
        return role_rank(self.role) >= role_rank(role)

    @property
    def state(self) -> str:
        """What the staff page shows: deactivated, locked, invited (no password yet) or active."""
        if not self.active:
            return "deactivated"
        if self.locked:
            return "locked"
        if self.password_hash.startswith(NO_PASSWORD):
            return "awaiting password"
        return "active"

    def clear_password(self) -> None:
        """No password works until one is set through the setup link; ends every session."""
        self.password_hash = NO_PASSWORD
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str, method: str) -> None:
        """Store a salted hash of the password and end every existing session."""
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        if self.password_hash.startswith(NO_PASSWORD):
            return False
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<StaffUser {self.username} {self.role}>"


@dataclass(frozen=True)
class ProxyStaff:
    """A staff member signed in by the SSO proxy (AUTH_MODE "proxy"); not stored."""

    username: str
    groups: frozenset[str] = field(default_factory=frozenset)
    role: str = "agent"
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.username

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_role(self, role: str) -> bool:
        """True when this staff member's role is role or one above it."""
        return role_rank(self.role) >= role_rank(role)


class LoginAttempt(db.Model):
    """One sign-in attempt; kept in the database so every app server sees the same counts."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffEvent(db.Model):
    """The admin trail: one row per change to a staff account (who, what, to whom, when)."""

    __tablename__ = "staff_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128), index=True)
    detail: Mapped[str] = mapped_column(String(255), default="")


class StaffPreference(db.Model):
    """A staff member's own settings, by user name (so SSO staff can keep them too)."""

    __tablename__ = "staff_preference"

    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
