"""Staff management in the browser: add (with a one-time link), role, lock and unlock, reset,
deactivate; each change confirmed first, CSRF-protected and in the admin trail; the last
admin who can sign in cannot be demoted, locked, deactivated or reset."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.auth import staffing
from app.auth.models import LoginAttempt, StaffEvent, StaffUser
from app.extensions import db
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, add_staff, normalize_spaces, sign_in, soup

NEW_PASSWORD = "a brand new passphrase"


def _user(app, name):
    with app.app_context():
        return db.session.scalar(select(StaffUser).where(StaffUser.username == name))


def _events(app):
    with app.app_context():
        rows = db.session.scalars(select(StaffEvent).order_by(StaffEvent.id)).all()
        return [(e.actor, e.action, e.target, e.detail) for e in rows]


def _confirm(client, url, **data):
    """Post a change, check it is only shown for confirmation, then confirm it."""
    first = client.post(url, data=data)
    assert first.status_code == 200
    page = soup(first)
    form = page.select_one("form.confirm-form")
    assert form["action"] == url
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert fields["confirm"] == "yes"
    return client.post(url, data=fields)


def _setup_link(response) -> str:
    link = soup(response).select_one("input#setup-link")["value"]
    return urlsplit(link).path


def _try_sign_in(app, name, password=TEST_PASSWORD):
    return app.test_client().post("/login", data={"username": name, "password": password})


def test_adding_an_account_is_confirmed_then_its_owner_sets_the_password(app, admin_client):
    first = admin_client.post(
        "/admin/staff/new", data={"username": " New.Person ", "role": "agent"}
    )
    assert normalize_spaces(soup(first).select_one("#confirm-question").get_text()) == (
        "Add new.person as agent?"
    )
    assert _user(app, "new.person") is None  # nothing happens before the confirmation

    response = _confirm(admin_client, "/admin/staff/new", username="new.person", role="agent")
    assert response.status_code == 201
    path = _setup_link(response)
    assert path.startswith("/welcome/")
    user = _user(app, "new.person")
    assert user.state == "awaiting password" and user.role == "agent"
    assert path.rsplit("/", 1)[1] not in (user.setup_token_hash or "")  # only a hash is kept
    assert _try_sign_in(app, "new.person", "").status_code == 200  # no password works yet

    newcomer = app.test_client()
    page = soup(newcomer.get(path))
    assert normalize_spaces(page.select_one("#setup-username").get_text()) == "new.person"
    short = newcomer.post(path, data={"password": "short", "repeat": "short"})
    assert short.status_code == 400
    assert "At least 12 characters." in soup(short).select_one("#password-error").get_text()
    done = newcomer.post(path, data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert _try_sign_in(app, "new.person", NEW_PASSWORD).status_code == 302
    # The link works once.
    assert newcomer.get(path).status_code == 404
    assert _events(app) == [
        (ADMIN, "add", "new.person", "role agent"),
        ("new.person", "set password", "new.person", "through the setup link"),
    ]


def test_a_setup_link_expires(app, admin_client, clock):
    response = _confirm(admin_client, "/admin/staff/new", username="late.larry", role="agent")
    path = _setup_link(response)
    clock.advance(timedelta(hours=app.config["STAFF_SETUP_LINK_HOURS"], seconds=1))
    expired = app.test_client().get(path)
    assert expired.status_code == 410
    assert soup(expired).select_one("h1").get_text() == "This link has expired"


def test_an_existing_name_cannot_be_added_again(admin_client):
    # Even a confirmation posted without its question (a replayed form) is refused.
    fields = {"username": AGENT, "role": "admin", "confirm": "yes"}
    response = admin_client.post("/admin/staff/new", data=fields)
    assert response.status_code == 409
    errors = soup(response).select_one("#username-error").get_text()
    assert "already a staff account" in errors


def test_changing_a_role_is_confirmed_and_in_the_trail(app, admin_client):
    agent = _user(app, AGENT)
    url = f"/admin/staff/{agent.id}/role"
    response = _confirm(admin_client, url, role="manager")
    assert response.status_code == 303
    assert _user(app, AGENT).role == "manager"
    page = soup(admin_client.get(response.headers["Location"]))
    assert normalize_spaces(page.select_one("#staff-role").get_text()) == "manager"
    assert page.select_one(".flash").get_text() == f"{AGENT}: role changed."
    assert _events(app)[-1] == (ADMIN, "role", AGENT, "agent -> manager")


def test_locking_ends_sessions_and_sign_in_and_unlocking_forgives_failures(app, admin_client):
    agent_client = sign_in(app.test_client(), AGENT)
    agent = _user(app, AGENT)
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/lock").status_code == 303
    # Their open session is over, and they cannot sign in.
    assert agent_client.get("/").headers["Location"].startswith("/login")
    assert _try_sign_in(app, AGENT).status_code == 200
    staff_page = soup(admin_client.get("/admin/staff"))
    states = {
        r.select_one(".staff-username").get_text(strip=True): r.select_one(".staff-state").text
        for r in staff_page.select("tr.staff-row")
    }
    assert states == {ADMIN: "active", AGENT: "locked"}

    # Enough failures to throttle the account, then an admin unlocks it.
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _try_sign_in(app, AGENT, "wrong password here")
    assert _try_sign_in(app, AGENT).status_code == 429
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/unlock").status_code == 303
    with app.app_context():
        failures = db.session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.username == AGENT, LoginAttempt.succeeded.is_(False)
            )
        )
    assert failures == 0
    assert _try_sign_in(app, AGENT).status_code == 302
    assert [e[1] for e in _events(app)] == ["lock", "unlock"]


def test_an_account_locked_only_by_failed_sign_ins_is_unlocked_from_its_page(app, admin_client):
    agent = _user(app, AGENT)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _try_sign_in(app, AGENT, "wrong password here")
    assert _try_sign_in(app, AGENT).status_code == 429
    page = soup(admin_client.get(f"/admin/staff/{agent.id}"))
    actions = {form["action"] for form in page.select("form")}
    assert f"/admin/staff/{agent.id}/unlock" in actions
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/unlock").status_code == 303
    assert _try_sign_in(app, AGENT).status_code == 302


def test_deactivated_accounts_show_as_such_and_cannot_sign_in(app, admin_client):
    agent = _user(app, AGENT)
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/deactivate").status_code == 303
    page = soup(admin_client.get(f"/admin/staff/{agent.id}"))
    assert page.select_one("#staff-state").get_text() == "deactivated"
    # Only reactivating is offered.
    assert [b.get_text() for b in page.select(".staff-actions button")] == ["Reactivate"]
    assert _try_sign_in(app, AGENT).status_code == 200
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/reactivate").status_code == 303
    assert _try_sign_in(app, AGENT).status_code == 302


def test_a_reset_voids_the_password_and_gives_a_new_link(app, admin_client):
    agent_client = sign_in(app.test_client(), AGENT)
    agent = _user(app, AGENT)
    response = _confirm(admin_client, f"/admin/staff/{agent.id}/reset")
    assert response.status_code == 200
    path = _setup_link(response)
    assert _try_sign_in(app, AGENT).status_code == 200  # the old password is gone
    assert agent_client.get("/").status_code == 302  # and so is the session
    app.test_client().post(path, data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert _try_sign_in(app, AGENT, NEW_PASSWORD).status_code == 302


def test_the_last_admin_cannot_demote_lock_deactivate_or_reset_themselves(app, admin_client):
    admin = _user(app, ADMIN)
    for url, data in (
        (f"/admin/staff/{admin.id}/role", {"role": "manager"}),
        (f"/admin/staff/{admin.id}/lock", {}),
        (f"/admin/staff/{admin.id}/deactivate", {}),
        (f"/admin/staff/{admin.id}/reset", {}),
    ):
        response = _confirm(admin_client, url, **data)
        assert response.status_code == 409, url
        message = soup(response).select_one(".refused-message").get_text()
        assert message == f"{ADMIN} is the last admin who can sign in; make another admin first."
    after = _user(app, ADMIN)
    assert (after.role, after.state) == ("admin", "active")
    assert _events(app) == []


def test_with_a_second_admin_one_can_be_demoted_but_not_the_other(app, admin_client):
    with app.app_context():
        add_staff("admin.carol", "admin")
    carol = _user(app, "admin.carol")
    assert _confirm(admin_client, f"/admin/staff/{carol.id}/role", role="agent").status_code == 303
    admin = _user(app, ADMIN)
    assert _confirm(admin_client, f"/admin/staff/{admin.id}/lock").status_code == 409


@pytest.mark.parametrize("state", ["locked", "deactivated", "awaiting password"])
def test_admins_who_cannot_sign_in_do_not_count(app, state):
    with app.app_context():
        other = add_staff("admin.dave", "admin")
        if state == "locked":
            other.locked = True
        elif state == "deactivated":
            other.active = False
        else:
            other.clear_password()
        db.session.commit()
        assert staffing.admins_who_can_sign_in() == 1
        me = db.session.scalar(select(StaffUser).where(StaffUser.username == ADMIN))
        with pytest.raises(staffing.ChangeRefused, match="last admin"):
            staffing.check_allowed(me, "role", "agent")


def test_changes_need_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = soup(client.get("/login")).select_one("input[name=csrf_token]")["value"]
    client.post("/login", data={"username": ADMIN, "password": TEST_PASSWORD, "csrf_token": token})
    agent = _user(app, AGENT)
    for url in (f"/admin/staff/{agent.id}/lock", "/admin/staff/new"):
        response = client.post(url, data={"confirm": "yes", "username": "x.y", "role": "agent"})
        assert response.status_code == 400, url
    assert _user(app, AGENT).state == "active" and _user(app, "x.y") is None


def test_the_admin_trail_page_lists_every_change_newest_first(app, admin_client):
    agent = _user(app, AGENT)
    _confirm(admin_client, f"/admin/staff/{agent.id}/lock")
    _confirm(admin_client, f"/admin/staff/{agent.id}/unlock")
    rows = soup(admin_client.get("/admin/trail")).select("tr.trail-row")
    seen = [
        (
            r.select_one(".trail-actor").text,
            r.select_one(".trail-action").text,
            r.select_one(".trail-target").text,
        )
        for r in rows
    ]
    assert seen == [(ADMIN, "unlock", AGENT), (ADMIN, "lock", AGENT)]
    # Times carry their zone.
    assert rows[0].select_one(".trail-at").get_text().endswith("(UTC)")


def test_staff_pages_are_not_for_proxy_mode(make_app):
    app = make_app(AUTH_MODE="proxy", AUTH_PROXY_TRUSTED=["10.0.0.5"], AUTH_PROXY_ADMIN_GROUP="a")
    headers = {"X-Forwarded-User": "sso.admin", "X-Forwarded-Groups": "a"}
    response = app.test_client().post(
        "/admin/staff/new",
        data={"username": "x.y", "role": "agent", "confirm": "yes"},
        headers=headers,
        environ_base={"REMOTE_ADDR": "10.0.0.5"},
    )
    assert response.status_code == 404


def test_command_line_changes_are_in_the_admin_trail_too(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "add", "meg.manager", "--role", "manager"], input=f"{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "disable", "meg.manager"]).exit_code == 0
    assert _events(app) == [
        ("(command line)", "add", "meg.manager", "role manager"),
        ("(command line)", "deactivate", "meg.manager", ""),
    ]
    with app.app_context():
        staffing.lock(staffing.find(AGENT))
    listing = {
        line.split()[0]: line.split()[1:3]
        for line in runner.invoke(args=["users", "list"]).output.splitlines()[1:]
    }
    assert listing[AGENT] == ["agent", "locked"]
    assert listing["meg.manager"] == ["manager", "disabled"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/admin/trail?page=99999999999999999999", 400),
        ("/admin/trail?page=0", 400),
        ("/admin/trail?page=x", 400),
        ("/admin/staff/99999999999999999999", 404),
        ("/admin/staff/0", 404),
    ],
)
def test_out_of_range_numbers_in_staff_links_are_a_4xx(admin_client, url, status):
    response = admin_client.get(url)
    assert response.status_code == status
    assert soup(response).select_one(".error-message")


def test_a_used_setup_link_says_so_and_what_to_do(app, admin_client):
    response = _confirm(admin_client, "/admin/staff/new", username="once.olga", role="agent")
    path = _setup_link(response)
    owner = app.test_client()
    owner.post(path, data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    again = owner.get(path)
    assert again.status_code == 404
    page = soup(again)
    assert page.select_one("h1").get_text() == "This link was used already or replaced"
    assert "ask an admin for a new link" in normalize_spaces(page.select_one("#setup-used").text)


def test_reactivating_an_account_without_a_password_gives_its_new_link(app, admin_client):
    agent = _user(app, AGENT)
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/reset").status_code == 200
    assert _confirm(admin_client, f"/admin/staff/{agent.id}/deactivate").status_code == 303
    question = admin_client.post(f"/admin/staff/{agent.id}/reactivate", data={})
    assert "no password yet" in soup(question).select_one("#confirm-question").get_text()
    response = _confirm(admin_client, f"/admin/staff/{agent.id}/reactivate")
    assert response.status_code == 200
    page = soup(response)
    assert "no password yet" in page.select_one("#setup-note").get_text()
    path = _setup_link(response)
    button = page.select_one("button#copy-setup-link")
    assert button["data-copy-input"] == "setup-link"
    app.test_client().post(path, data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert _try_sign_in(app, AGENT, NEW_PASSWORD).status_code == 302


def test_a_taken_name_is_refused_before_the_confirmation(admin_client):
    response = admin_client.post("/admin/staff/new", data={"username": AGENT, "role": "agent"})
    assert response.status_code == 409
    page = soup(response)
    assert page.select_one("#confirm-question") is None
    assert "already a staff account" in page.select_one("#username-error").get_text()
