"""`flask users ...`: add, list, disable, enable, set-password; disable and enable keep the
staff pages' rules (the last admin stays, a disabled account's setup link stays void)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth import cli, staffing
from app.auth.models import StaffEvent, StaffUser
from app.extensions import db
from tests.conftest import ADMIN, AGENT, add_staff, sign_in

LAST_ADMIN = "{name} is the last admin who can sign in; make another admin first."


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _user(app, name):
    with app.app_context():
        return db.session.scalar(select(StaffUser).where(StaffUser.username == name))


def test_add_reads_a_piped_password_and_the_user_can_sign_in(app, runner):
    result = runner.invoke(
        args=["users", "add", "Carol.New", "--role", "admin"], input="a long enough secret\n"
    )
    assert result.exit_code == 0, result.output
    assert "Added carol.new (admin)" in result.output
    user = _user(app, "carol.new")
    assert user.role == "admin" and user.active
    assert "a long enough secret" not in user.password_hash
    assert user.password_hash.startswith("pbkdf2:")  # the configured werkzeug method
    sign_in(app.test_client(), "carol.new", "a long enough secret")


def test_add_defaults_to_agent(app, runner):
    result = runner.invoke(args=["users", "add", "dave"], input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert _user(app, "dave").role == "agent"


def test_add_prompts_hidden_twice_on_a_terminal(app, runner, monkeypatch):
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)
    result = runner.invoke(
        args=["users", "add", "erin"], input="typed at a prompt\ntyped at a prompt\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "typed at a prompt" not in result.output  # hidden input is not echoed
    sign_in(app.test_client(), "erin", "typed at a prompt")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "add", AGENT], "a long enough secret\n", "already a staff account"),
        (["users", "add", "short.pw"], "short\n", "at least 12 characters"),
        (["users", "add", "bad name!"], "a long enough secret\n", "A user name is"),
        (["users", "add", "x", "--role", "root"], "a long enough secret\n", "Invalid value"),
        (["users", "disable", "nobody"], "", "no staff account called"),
        (["users", "set-password", "nobody"], "a long enough secret\n", "no staff account"),
    ],
)
def test_mistakes_are_refused_with_a_reason(runner, args, stdin, message):
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output


def test_list_shows_names_roles_and_state(runner):
    runner.invoke(args=["users", "disable", AGENT])
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split()[1:3] for line in result.output.splitlines()[1:]}
    assert lines == {ADMIN: ["admin", "active"], AGENT: ["agent", "disabled"]}


def test_disable_then_enable(app, runner):
    assert runner.invoke(args=["users", "disable", AGENT]).exit_code == 0
    assert not _user(app, AGENT).active
    assert runner.invoke(args=["users", "enable", AGENT]).exit_code == 0
    assert _user(app, AGENT).active
    sign_in(app.test_client(), AGENT)


def _refused_in_one_line(result, message):
    """A refusal: exit status 1, the message on one line, and no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # click's error exit, not a crash
    assert result.output == f"Error: {message}\n"


def _events(app):
    with app.app_context():
        return [(e.action, e.target) for e in db.session.scalars(select(StaffEvent))]


def _invite(app, name):
    """Add an account the way the staff page does; return its setup link's path."""
    with app.app_context():
        _, token = staffing.add(name, "agent")
    return f"/welcome/{token}"


def test_the_last_admin_cannot_be_disabled_from_the_shell(app, runner):
    result = runner.invoke(args=["users", "disable", ADMIN])
    _refused_in_one_line(result, LAST_ADMIN.format(name=ADMIN))
    assert _user(app, ADMIN).active
    assert _events(app) == []
    sign_in(app.test_client(), ADMIN)


def test_with_a_second_admin_one_can_be_disabled_but_then_not_the_other(app, runner):
    with app.app_context():
        add_staff("admin.carol", "admin")
    assert runner.invoke(args=["users", "disable", ADMIN]).exit_code == 0
    result = runner.invoke(args=["users", "disable", "admin.carol"])
    _refused_in_one_line(result, LAST_ADMIN.format(name="admin.carol"))
    assert _user(app, "admin.carol").active
    assert _events(app) == [("deactivate", ADMIN)]


def test_disabling_voids_a_pending_setup_link(app, runner):
    path = _invite(app, "new.person")
    assert app.test_client().get(path).status_code == 200
    assert runner.invoke(args=["users", "disable", "new.person"]).exit_code == 0
    user = _user(app, "new.person")
    assert (user.setup_token_hash, user.setup_expires_at) == (None, None)
    assert app.test_client().get(path).status_code == 404


def test_enabling_does_not_bring_a_setup_link_back(app, runner):
    path = _invite(app, "new.person")
    assert runner.invoke(args=["users", "disable", "new.person"]).exit_code == 0
    assert runner.invoke(args=["users", "enable", "new.person"]).exit_code == 0
    assert _user(app, "new.person").active
    assert app.test_client().get(path).status_code == 404


def test_enabling_voids_a_link_kept_by_an_account_disabled_before_the_rule(app, runner):
    # An account disabled by an older `flask users disable`, which left its link stored.
    path = _invite(app, "new.person")
    with app.app_context():
        staffing.find("new.person").active = False
        db.session.commit()
    assert runner.invoke(args=["users", "enable", "new.person"]).exit_code == 0
    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize(
    ("first", "again", "message"),
    [
        ("disable", "disable", f"{AGENT} is already deactivated."),
        (None, "enable", f"{AGENT} is active."),
    ],
)
def test_disabling_or_enabling_twice_says_so(app, runner, first, again, message):
    if first:
        assert runner.invoke(args=["users", first, AGENT]).exit_code == 0
    before = _events(app)
    _refused_in_one_line(runner.invoke(args=["users", again, AGENT]), message)
    assert _events(app) == before


def test_set_password_replaces_the_old_one(app, runner):
    result = runner.invoke(args=["users", "set-password", ADMIN], input="another fine secret\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    response = client.post("/login", data={"username": ADMIN, "password": "old"})
    assert response.status_code == 200
    sign_in(client, ADMIN, "another fine secret")


def test_list_with_no_accounts_says_how_to_add_one(app, runner):
    with app.app_context():
        for user in db.session.scalars(select(StaffUser)):
            db.session.delete(user)
        db.session.commit()
    result = runner.invoke(args=["users", "list"])
    assert "flask --app app users add NAME" in result.output
