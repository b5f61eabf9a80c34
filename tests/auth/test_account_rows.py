"""The signed-in account is read from the database at most once per AUTH_RECHECK_SECONDS
per process; a change this process makes counts at once, one made elsewhere within the window."""

from __future__ import annotations

from sqlalchemy import event, update

from app.auth import staffing
from app.auth.account_rows import EXTENSION, AccountRows
from app.auth.models import StaffUser
from app.extensions import db
from tests.conftest import AGENT, sign_in


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def account_selects(app) -> list[str]:
    """Collects each SELECT on staff_user the app's engine runs from now on."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM staff_user" in statement:
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
    return seen


def signed_in_with_ticks(make_app, **config):
    app = make_app(**config)
    ticks = Ticks()
    app.extensions[EXTENSION] = AccountRows(app.config["AUTH_RECHECK_SECONDS"], ticks)
    return app, sign_in(app.test_client(), AGENT), ticks


def test_the_account_is_read_once_for_several_requests_within_the_window(make_app):
    app, client, _ = signed_in_with_ticks(make_app, AUTH_RECHECK_SECONDS=5)
    client.get("/")  # the first page after sign-in reads and keeps the row
    selects = account_selects(app)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert selects == []


def test_with_no_window_the_account_is_read_on_every_request(make_app):
    app, client, _ = signed_in_with_ticks(make_app, AUTH_RECHECK_SECONDS=0)
    selects = account_selects(app)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert len(selects) == 3


def test_a_change_made_by_this_process_counts_at_once(make_app):
    app, client, _ = signed_in_with_ticks(make_app, AUTH_RECHECK_SECONDS=60)
    assert client.get("/").status_code == 200
    with app.app_context():
        staffing.deactivate(db.session.scalar(db.select(StaffUser).filter_by(username=AGENT)))
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_change_made_elsewhere_counts_once_the_window_has_passed(make_app):
    app, client, ticks = signed_in_with_ticks(make_app, AUTH_RECHECK_SECONDS=5)
    assert client.get("/").status_code == 200
    with app.app_context():
        # As another server would: straight to the table, past this process's ORM events.
        gone = update(StaffUser).where(StaffUser.username == AGENT).values(active=False)
        db.session.execute(gone)
        db.session.commit()
    assert client.get("/").status_code == 200  # still within the window
    ticks.now += 5.1
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_window_is_bounded_at_start(make_app):
    import pytest

    from app.config_rules import ConfigError

    with pytest.raises(ConfigError, match="AUTH_RECHECK_SECONDS"):
        make_app(AUTH_RECHECK_SECONDS=600)
