"""Changes to staff accounts, from the staff pages and `flask users`, each written to the
admin trail.

The rules live here, not in the views or the commands: the last admin who can sign in cannot
be demoted, locked, deactivated or reset (by anyone, themselves included), and a deactivated
account has no setup link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from app.auth import throttle, trail
from app.auth.account_rows import account_rows
from app.auth.models import NO_PASSWORD, StaffUser
from app.dbtypes import utcnow
from app.extensions import db

# What each action takes away: these need someone else to stay able to run the desk.
REMOVES_ADMIN = frozenset({"lock", "deactivate", "reset"})


class ChangeRefused(Exception):
    """The change would break a rule; the message says which, in plain words."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find(username: str) -> StaffUser | None:
    """The account called username, or None."""
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def admins_who_can_sign_in() -> int:
    """Admin accounts that are active, not locked and have a password."""
    # FOR UPDATE (PostgreSQL): two admins demoting each other at once are serialised, and the
    # second sees the first's change, so they cannot both go.
    query = (
        select(StaffUser.id)
        .where(
            StaffUser.role == "admin",
            StaffUser.active.is_(True),
            StaffUser.locked.is_(False),
            StaffUser.password_hash != NO_PASSWORD,
        )
        .with_for_update()
    )
    return len(db.session.scalars(query).all())


def check_allowed(user: StaffUser, action: str, new_role: str | None = None) -> None:
    """Raise ChangeRefused when action on user would break a rule."""
    takes_admin = action in REMOVES_ADMIN or (action == "role" and new_role != "admin")
    if takes_admin and user.state == "active" and user.is_admin and admins_who_can_sign_in() <= 1:
        raise ChangeRefused(
            f"{user.username} is the last admin who can sign in; make another admin first."
        )


def issue_setup_link(user: StaffUser) -> str:
    """A new one-time token for user to set a password with (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    user.setup_token_hash = _token_hash(token)
    hours = current_app.config["STAFF_SETUP_LINK_HOURS"]
    user.setup_expires_at = utcnow() + timedelta(hours=hours)
    return token


def check_new_name(username: str) -> None:
    """Raise ChangeRefused when username is already taken."""
    if find(username) is not None:
        raise ChangeRefused(f"There is already a staff account called {username}.")


def _new_account(username: str, role: str) -> StaffUser:
    """An account with no password yet, added to the session and the trail (not committed)."""
    check_new_name(username)
    user = StaffUser(
        username=username,
        role=role,
        active=True,
        locked=False,
        session_version=1,
        password_hash=NO_PASSWORD,
    )
    db.session.add(user)
    trail.note("add", username, f"role {role}")
    return user


def add(username: str, role: str) -> tuple[StaffUser, str]:
    """Create an account with no password yet; return it and its setup token."""
    user = _new_account(username, role)
    token = issue_setup_link(user)
    db.session.commit()
    return user, token


def add_with_password(username: str, role: str, password: str) -> StaffUser:
    """Create an account whose password is already chosen (`flask users add`)."""
    user = _new_account(username, role)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    return user


def change_role(user: StaffUser, role: str) -> None:
    """Give user another role."""
    check_allowed(user, "role", role)
    if role == user.role:
        raise ChangeRefused(f"{user.username} is already {role}.")
    trail.note("role", user.username, f"{user.role} -> {role}")
    user.role = role
    db.session.commit()


def lock(user: StaffUser) -> None:
    """Stop user signing in and end their sessions."""
    check_allowed(user, "lock")
    if user.locked:
        raise ChangeRefused(f"{user.username} is already locked.")
    user.locked = True
    user.session_version += 1
    trail.note("lock", user.username)
    db.session.commit()


def unlock(user: StaffUser) -> int:
    """Let user sign in again, at once: an admin's lock is lifted and their recorded failed
    sign-ins are forgiven (the staff pages and `flask users unlock`); returns how many."""
    if not user.locked and not throttle.is_locked(user.username):
        raise ChangeRefused(f"{user.username} is not locked.")
    user.locked = False
    trail.note("unlock", user.username, "failed sign-ins cleared")
    return throttle.unlock(user.username)  # commits, with the lines above


def reset(user: StaffUser) -> str:
    """Void user's password and sessions; return a new setup token for them."""
    check_allowed(user, "reset")
    if not user.active:
        raise ChangeRefused(f"{user.username} is deactivated; reactivate the account first.")
    user.clear_password()
    token = issue_setup_link(user)
    trail.note("reset", user.username, "password cleared, new setup link")
    db.session.commit()
    return token


def deactivate(user: StaffUser) -> None:
    """For someone who left: no sign-in, no sessions, no setup link."""
    check_allowed(user, "deactivate")
    if not user.active:
        raise ChangeRefused(f"{user.username} is already deactivated.")
    user.active = False
    user.session_version += 1
    user.setup_token_hash = user.setup_expires_at = None
    trail.note("deactivate", user.username)
    db.session.commit()


def reactivate(user: StaffUser) -> None:
    """Undo a deactivation; a setup link from before it stays void (reset for a new one)."""
    if user.active:
        raise ChangeRefused(f"{user.username} is active.")
    user.active = True
    # deactivate() voids the link already; this also catches accounts deactivated before it
    # did (by an older `flask users disable`), whose link would otherwise work again.
    user.setup_token_hash = user.setup_expires_at = None
    trail.note("reactivate", user.username)
    db.session.commit()


def user_for_link(token: str) -> tuple[StaffUser | None, bool]:
    """The account a setup token belongs to, and whether the link is still in time."""
    user = db.session.scalar(
        select(StaffUser).where(StaffUser.setup_token_hash == _token_hash(token))
    )
    if user is None or not user.active:
        return None, False
    expires = user.setup_expires_at
    return user, expires is not None and utcnow() < expires


def set_password_from_link(user: StaffUser, token: str, password: str) -> bool:
    """Set user's password from their setup link, which then stops working; False when the
    link was used (or replaced, or ran out) meanwhile.

    Claimed in one conditional UPDATE: of two requests with the same link at once, only the
    one whose UPDATE still finds the token sets a password.
    """
    new_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    claimed = db.session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            StaffUser.setup_token_hash == _token_hash(token),
            StaffUser.setup_expires_at > utcnow(),
            StaffUser.active.is_(True),
        )
        .values(
            password_hash=new_hash,
            session_version=StaffUser.session_version + 1,
            setup_token_hash=None,
            setup_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    trail.note("set password", user.username, "through the setup link", actor=user.username)
    db.session.commit()
    # A bulk UPDATE runs no ORM events: forget this process's copy of the row by hand.
    account_rows().forget(user.id)
    return True


def change_own_password(user: StaffUser, password: str) -> None:
    """The signed-in staff member's new password (ends their other sessions)."""
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    trail.note("change password", user.username, "their own", actor=user.username)
    db.session.commit()
