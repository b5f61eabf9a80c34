"""Staff management in the browser (local accounts): add, change role, lock, unlock, reset,
deactivate, and the admin trail. Every change is shown for confirmation, then posted again."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth import staffing, throttle
from app.auth.access import requires
from app.auth.blueprint import bp
from app.auth.models import NO_PASSWORD, StaffEvent, StaffUser
from app.auth.staff_forms import AddStaffForm, ConfirmedForm, RoleForm, StaffActionForm
from app.extensions import db

# Action -> (what the confirmation asks, the button's words).
ACTIONS = {
    "lock": ("Lock {name}? They are signed out and cannot sign in until unlocked.", "Lock"),
    "unlock": ("Unlock {name}? Their failed sign-ins are forgotten too.", "Unlock"),
    "reset": (
        "Reset {name}'s password? It stops working at once, their sessions end, and you get "
        "a new link for them to set another.",
        "Reset password",
    ),
    "deactivate": (
        "Deactivate {name}? For someone who has left: they cannot sign in and their "
        "sessions end. Their audit records stay.",
        "Deactivate",
    ),
    "reactivate": ("Reactivate {name}? They can sign in again.", "Reactivate"),
}
DONE = {
    "lock": "locked",
    "unlock": "unlocked",
    "deactivate": "deactivated",
    "reactivate": "reactivated",
}
TRAIL_PAGE_SIZE = 50
MAX_PAGE = 100_000


def _local_only() -> None:
    if current_app.config["AUTH_MODE"] != "local":
        abort(404, description="Staff accounts are managed by single sign-on here.")


def _account(user_id: int) -> StaffUser:
    # The route takes any digits; the database's integers do not.
    user = db.session.get(StaffUser, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        abort(404, description="There is no such staff account.")
    return user


def _confirm_page(form: ConfirmedForm, question: str, button: str, action_url: str) -> str:
    return render_template(
        "auth/confirm.html", form=form, question=question, button=button, action_url=action_url
    )


def _setup_link_page(
    user: StaffUser, token: str, status: int = 200, note: str | None = None
) -> tuple[str, int]:
    link = url_for("auth.setup", token=token, _external=True)
    return render_template("auth/setup_link.html", user=user, link=link, note=note), status


@bp.route("/admin/staff/new", methods=["GET", "POST"])
@requires("admin")
def staff_new() -> str | tuple[str, int]:
    """Add an account; its owner sets the password through a one-time link."""
    _local_only()
    form = AddStaffForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("auth/staff_new.html", form=form), status
    try:  # before the confirmation: "Add alice?" must not be asked of a name that is taken
        staffing.check_new_name(form.username.data)
    except staffing.ChangeRefused as exc:
        form.username.errors.append(str(exc))
        return render_template("auth/staff_new.html", form=form), 409
    if not form.confirmed:
        question = f"Add {form.username.data} as {form.role.data}?"
        return _confirm_page(form, question, "Add account", url_for("auth.staff_new")), 200
    try:
        user, token = staffing.add(form.username.data, form.role.data)
    except staffing.ChangeRefused as exc:
        form.username.errors.append(str(exc))
        return render_template("auth/staff_new.html", form=form), 409
    return _setup_link_page(user, token, 201)


@bp.get("/admin/staff/<int:user_id>")
@requires("admin")
def staff_account(user_id: int) -> str:
    """One account: its state, the actions open to it, and its part of the admin trail."""
    user = _account(user_id)
    events = db.session.scalars(
        select(StaffEvent)
        .where(StaffEvent.target == user.username)
        .order_by(StaffEvent.id.desc())
        .limit(20)
    ).all()
    role_form = RoleForm(formdata=None, role=user.role)
    return render_template(
        "auth/staff_account.html",
        user=user,
        role_form=role_form,
        action_form=StaffActionForm(formdata=None),
        events=events,
        actions=_actions_for(user),
    )


def _actions_for(user: StaffUser) -> list[tuple[str, str]]:
    """(action, button) pairs that apply to the account's state."""
    names = ["reset"]
    names.append("unlock" if user.locked or throttle.is_locked(user.username) else "lock")
    names.append("deactivate" if user.active else "reactivate")
    if not user.active:
        names = ["reactivate"]
    return [(name, ACTIONS[name][1]) for name in names]


@bp.post("/admin/staff/<int:user_id>/role")
@requires("admin")
def staff_role(user_id: int) -> Response | str | tuple[str, int]:
    """Change an account's role (confirmed first)."""
    _local_only()
    user = _account(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description="Choose one of the roles.")
    url = url_for("auth.staff_role", user_id=user.id)
    if not form.confirmed:
        question = f"Make {user.username} {form.role.data} (now {user.role})?"
        return _confirm_page(form, question, "Change role", url)
    return _apply(user, lambda: staffing.change_role(user, form.role.data), "role changed")


@bp.post("/admin/staff/<int:user_id>/<action>")
@requires("admin")
def staff_act(user_id: int, action: str) -> Response | str | tuple[str, int]:
    """Lock, unlock, reset, deactivate or reactivate an account (confirmed first)."""
    _local_only()
    if action not in ACTIONS:
        abort(404, description="There is no such action.")
    user = _account(user_id)
    form = StaffActionForm()
    if not form.validate_on_submit():
        abort(400, description="The form had expired; try again.")
    question, button = ACTIONS[action]
    no_password = action == "reactivate" and user.password_hash.startswith(NO_PASSWORD)
    if no_password:
        question = "Reactivate {name}? They have no password yet: you get a new link for them."
    if not form.confirmed:
        url = url_for("auth.staff_act", user_id=user.id, action=action)
        return _confirm_page(form, question.format(name=user.username), button, url)
    if action == "reset":
        try:
            token = staffing.reset(user)
        except staffing.ChangeRefused as exc:
            return _refused(user, exc)
        return _setup_link_page(user, token)
    change = getattr(staffing, action)
    if no_password:
        # Signing in needs a password they never set (or a reset voided): a new link, shown.
        try:
            staffing.reactivate(user)
            token = staffing.reset(user)
        except staffing.ChangeRefused as exc:
            return _refused(user, exc)
        note = f"{user.username} is reactivated. They have no password yet: give them this link."
        return _setup_link_page(user, token, note=note)
    return _apply(user, lambda: change(user), DONE[action])


def _apply(user: StaffUser, change: Callable[[], None], done: str) -> Response | tuple[str, int]:
    try:
        change()
    except staffing.ChangeRefused as exc:
        return _refused(user, exc)
    flash(f"{user.username}: {done}.", "info")
    return redirect(url_for("auth.staff_account", user_id=user.id), code=303)


def _refused(user: StaffUser, exc: staffing.ChangeRefused) -> tuple[str, int]:
    db.session.rollback()
    return render_template("auth/refused.html", user=user, message=str(exc)), 409


@bp.get("/admin/trail")
@requires("admin")
def staff_trail() -> str:
    """The admin trail, newest first."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_PAGE):
        abort(400, description=f"The page number must be a whole number from 1 to {MAX_PAGE:,}.")
    page = int(raw)
    pagination = db.paginate(
        select(StaffEvent).order_by(StaffEvent.id.desc()),
        page=page,
        per_page=TRAIL_PAGE_SIZE,
        error_out=False,
    )
    return render_template("auth/trail.html", pagination=pagination)
