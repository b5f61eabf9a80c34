"""A manager's or admin's page reads the acting account's row from the database, not the
per-process copy: a lock, deactivation or demotion made on another worker counts at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.auth.account_rows import EXTENSION, AccountRows
from app.auth.models import StaffUser
from app.extensions import db
from tests.conftest import ADMIN, sign_in, soup


class Frozen:
    """A monotonic clock that never moves: the per-process copy never runs out."""

    def __call__(self) -> float:
        return 1000.0


@pytest.fixture
def admin(make_app):
    app = make_app(AUTH_RECHECK_SECONDS=5)
    app.extensions[EXTENSION] = AccountRows(5, Frozen())
    client = sign_in(app.test_client(), ADMIN)
    assert client.get("/admin/staff/new").status_code == 200  # the row is now kept
    return app, client


def _elsewhere(app, **values) -> None:
    """Change the admin's row as another worker would: past this process's ORM events."""
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.username == ADMIN).values(**values))
        db.session.commit()


def _confirm_fields(client) -> dict[str, str]:
    first = client.post("/admin/staff/new", data={"username": "scripted.1", "role": "admin"})
    form = soup(first).select_one("form.confirm-form")
    return {i["name"]: i["value"] for i in form.select("input[type=hidden]")}


def _accounts(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(StaffUser.username)))


@pytest.mark.parametrize(
    "change", [{"locked": True}, {"active": False}], ids=["locked", "deactivated"]
)
def test_a_locked_admin_cannot_add_accounts_on_another_worker(admin, change):
    app, client = admin
    fields = _confirm_fields(client)
    _elsewhere(app, **change)
    response = client.post("/admin/staff/new", data=fields)
    assert response.status_code == 403
    assert "scripted.1" not in _accounts(app)
    # The session is over: not even the lookup page is open any more.
    assert client.get("/").status_code == 302


def test_a_demoted_admin_loses_the_staff_pages_at_once(admin):
    app, client = admin
    fields = _confirm_fields(client)
    _elsewhere(app, role="agent")
    assert client.get("/admin/staff/new").status_code == 403
    assert client.post("/admin/staff/new", data=fields).status_code == 403
    assert "scripted.1" not in _accounts(app)
    assert client.get("/").status_code == 200  # still an agent
