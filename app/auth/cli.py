"""`flask users ...`: manage local staff accounts from the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth import passwords, staffing, trail
from app.auth.models import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    USERNAME_RE,
    StaffUser,
    normalise_username,
)
from app.extensions import db

users = AppGroup("users", help="Manage staff accounts (AUTH_MODE=local).")


def _stdin_is_interactive() -> bool:
    return sys.stdin.isatty()


def _read_password(username: str) -> str:
    """From a hidden prompt asked twice, or the first line of stdin when it is piped."""
    if _stdin_is_interactive():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
        )
    if refused := passwords.refusal(password, username):
        raise click.ClickException(refused)
    return password


def _get_user(name: str) -> StaffUser:
    user = staffing.find(normalise_username(name))
    if user is None:
        raise click.ClickException(f"There is no staff account called {name!r}.")
    return user


def _apply(change: Callable[[], object]) -> None:
    """Run a staffing change; a refused one is a one-line error and a non-zero exit."""
    try:
        change()
    except staffing.ChangeRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
def add_user(name: str, role: str) -> None:
    """Create a staff account; the password is prompted for, or read from stdin."""
    username = normalise_username(name)
    if not USERNAME_RE.match(username):
        raise click.ClickException(
            "A user name is 1-64 characters: lower-case letters, digits, '.', '_', '@', '-'."
        )
    # Checked before the prompt too, so no one types a password for a name that is taken.
    _apply(lambda: staffing.check_new_name(username))
    password = _read_password(username)
    _apply(lambda: staffing.add_with_password(username, role, password))
    click.echo(f"Added {username} ({role}).")


@users.command("list")
def list_users() -> None:
    """List staff accounts with role, state and last sign-in."""
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
    if not rows:
        click.echo("No staff accounts yet. Add one with: flask --app app users add NAME")
        return
    click.echo(f"{'NAME':<32} {'ROLE':<7} {'STATE':<17} LAST SIGN-IN (UTC)")
    for user in rows:
        state = "disabled" if not user.active else user.state
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.username:<32} {user.role:<7} {state:<17} {last}")


@users.command("disable")
@click.argument("name")
def disable_user(name: str) -> None:
    """Stop an account from signing in, end its open sessions and void its setup link."""
    user = _get_user(name)
    _apply(lambda: staffing.deactivate(user))
    click.echo(f"Disabled {user.username}.")


@users.command("enable")
@click.argument("name")
def enable_user(name: str) -> None:
    """Let a disabled account sign in again (a voided setup link stays void)."""
    user = _get_user(name)
    _apply(lambda: staffing.reactivate(user))
    click.echo(f"Enabled {user.username}.")


@users.command("set-password")
@click.argument("name")
def set_password(name: str) -> None:
    """Replace an account's password (prompted, or read from stdin); ends its sessions."""
    user = _get_user(name)
    user.set_password(_read_password(user.username), current_app.config["PASSWORD_HASH_METHOD"])
    user.setup_token_hash = user.setup_expires_at = None
    trail.note("set password", user.username, "from the command line")
    db.session.commit()
    click.echo(f"Changed the password of {user.username}.")


@users.command("unlock")
@click.argument("name")
def unlock_user(name: str) -> None:
    """Lift an admin's lock and clear failed sign-ins, so the account can sign in at once."""
    user = _get_user(name)
    cleared: list[int] = []
    _apply(lambda: cleared.append(staffing.unlock(user)))
    click.echo(f"Unlocked {user.username} ({cleared[0]} failed sign-ins cleared).")
