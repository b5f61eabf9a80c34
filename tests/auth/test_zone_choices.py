"""A staff member's display zone is read from the database at most once per
AUTH_RECHECK_SECONDS per process (app/auth/preferences.py ZoneChoices); a choice saved here
counts at once, one saved elsewhere once the window has passed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, update

from app.audit.models import AuditRecord
from app.auth.models import StaffPreference
from app.auth.preferences import EXTENSION, ZoneChoices
from app.extensions import db
from tests.auth.test_account_rows import Ticks
from tests.conftest import ADMIN, AGENT, normalize_spaces, sign_in, soup

MOMENT = datetime(2026, 6, 1, 20, 30, tzinfo=UTC)
IN_UTC = "1 Jun 2026, 20:30:00 (UTC)"
IN_KOLKATA = "2 Jun 2026, 02:00:00 (IST, UTC+05:30)"


def zone_selects(app) -> list[str]:
    """Collects each SELECT on staff_preference the app's engine runs from now on."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "staff_preference" in statement:
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
    return seen


def admin_in_kolkata(make_app):
    app = make_app(AUTH_RECHECK_SECONDS=5)
    ticks = Ticks()
    app.extensions[EXTENSION] = ZoneChoices(app.config["AUTH_RECHECK_SECONDS"], ticks)
    with app.app_context():
        db.session.add(
            AuditRecord(
                at=MOMENT,
                staff_username=AGENT,
                identifier_type="mobile",
                member_id=700000001,
                program_scope="all",
                outcome="found",
                kind="lookup",
            )
        )
        db.session.commit()
    client = sign_in(app.test_client(), ADMIN)
    assert client.post("/account/timezone", data={"timezone": "Asia/Kolkata"}).status_code == 303
    return app, client, ticks


def audit_time(client) -> str:
    page = soup(client.get("/admin/audit", query_string={"staff": AGENT}))
    return normalize_spaces(page.select_one("tr.audit-row .audit-at").get_text())


def test_pages_in_a_row_read_the_choice_once(make_app):
    app, client, _ = admin_in_kolkata(make_app)
    selects = zone_selects(app)

    times = [audit_time(client) for _ in range(3)]

    assert times == [IN_KOLKATA] * 3
    assert len(selects) == 1


def test_a_choice_saved_elsewhere_counts_once_the_window_has_passed(make_app):
    app, client, ticks = admin_in_kolkata(make_app)
    assert audit_time(client) == IN_KOLKATA
    with app.app_context():
        # As another server would: straight to the table, past this process's ORM events.
        db.session.execute(
            update(StaffPreference).where(StaffPreference.username == ADMIN).values(timezone=None)
        )
        db.session.commit()

    assert audit_time(client) == IN_KOLKATA
    ticks.now += 6
    assert audit_time(client) == IN_UTC
