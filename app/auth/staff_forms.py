"""Forms of the staff pages: add an account, act on one, set or change a password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from app.auth import passwords
from app.auth.models import MIN_PASSWORD_LENGTH, ROLES, USERNAME_RE

ROLE_CHOICES = [SelectChoice(role, role) for role in ROLES]
PASSWORD_RULE = f"At least {MIN_PASSWORD_LENGTH} characters."


class ConfirmedForm(FlaskForm):
    """A change that is shown for confirmation first: posted again with confirm=yes."""

    confirm = HiddenField(default="")

    @property
    def confirmed(self) -> bool:
        return self.confirm.data == "yes"


class AddStaffForm(ConfirmedForm):
    """A new account: its user name and role (its owner sets the password)."""

    username = StringField(
        "User name",
        validators=[
            DataRequired("Enter a user name."),
            Length(max=64),
            Regexp(
                USERNAME_RE.pattern,
                message="Lower-case letters, digits, '.', '_', '@' and '-'; up to 64.",
            ),
        ],
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="agent")


class StaffActionForm(ConfirmedForm):
    """Lock, unlock, reset, deactivate, reactivate: nothing but the confirmation."""


class RoleForm(ConfirmedForm):
    """A new role for an account."""

    role = SelectField("New role", choices=ROLE_CHOICES)


class NewPasswordForm(FlaskForm):
    """Choose a password: the same strength rule as `flask users`."""

    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a password."),
            Length(min=MIN_PASSWORD_LENGTH, max=1024, message=PASSWORD_RULE),
        ],
        description=PASSWORD_RULE,
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        "Repeat the new password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def acceptable_for(self, username: str) -> bool:
        """Refuse (with the reason on the password field) a password too easy to guess."""
        refused = passwords.refusal(self.password.data or "", username)
        if refused is not None:
            self.password.errors = [*self.password.errors, refused]
        return refused is None


class ChangePasswordForm(NewPasswordForm):
    """Change my own password: the current one first."""

    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class TimeZoneForm(FlaskForm):
    """My display time zone ("" for the desk's default)."""

    timezone = SelectField("Time zone", validate_choice=True)
