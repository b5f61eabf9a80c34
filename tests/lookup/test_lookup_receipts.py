"""A member page skips its audit record only on a single-use receipt kept on the server,
bound to the staff member, the member, the program and the dates of the lookup."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select, text

from app.audit.models import AuditRecord
from app.extensions import db
from app.lookup.receipts import LookupReceipt
from app.sandbox import data as demo
from tests.conftest import ADMIN, frozen_today, sign_in

MOBILE = "919800000001"
MEMBER = f"/members/{demo.MEMBER_MULTI_PROGRAM}"


def _count(app, model=AuditRecord) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _look_up(client, **fields):
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "all", **fields}
    response = client.post("/lookup", data=form)
    assert response.status_code == 302
    return response


def _with_cookie(app, cookie: str):
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    return replay


def test_the_page_a_lookup_redirects_to_writes_no_second_record(app, client, upstream):
    response = _look_up(client)
    assert _count(app) == 1 and _count(app, LookupReceipt) == 1
    assert client.get(response.location).status_code == 200
    assert _count(app) == 1
    assert _count(app, LookupReceipt) == 0  # used up
    assert client.get(response.location).status_code == 200  # a reload is a new view
    assert _count(app) == 2


def test_a_replayed_cookie_gets_no_free_views_in_any_scope(app, client, upstream):
    response = _look_up(client)
    cookie = client.get_cookie("session").value
    today = frozen_today()
    urls = [response.location]
    for program in ("all", "2199", "1933", "890", "default"):
        for days in range(4):
            start = (today - timedelta(days=30 + days)).isoformat()
            urls.append(f"{MEMBER}?program={program}&from={start}&to={today.isoformat()}")
    for url in urls[:21]:
        assert _with_cookie(app, cookie).get(url).status_code == 200
    # The lookup's record, then one per view but the single one its receipt covered.
    assert _count(app) == 1 + len(urls[:21]) - 1


def test_a_receipt_for_one_scope_does_not_cover_another(app, client, upstream):
    _look_up(client)
    assert client.get(f"{MEMBER}?program=1933").status_code == 200
    assert _count(app) == 2


def test_concurrent_replays_of_one_cookie_write_every_record_but_one(app, client, upstream):
    response = _look_up(client)
    cookie = client.get_cookie("session").value
    start = threading.Barrier(20)

    def view(_: int) -> int:
        replay = _with_cookie(app, cookie)
        start.wait()
        return replay.get(response.location).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(view, range(20)))
    assert statuses == [200] * 20
    assert _count(app) == 1 + 19


def test_a_receipt_is_for_the_staff_member_who_looked_up(app, client, upstream):
    response = _look_up(client)
    other = sign_in(app.test_client(), ADMIN)
    with client.session_transaction() as theirs:
        token = theirs["just_recorded"]
    with other.session_transaction() as mine:
        mine["just_recorded"] = token
    assert other.get(response.location).status_code == 200
    assert _count(app) == 2


def test_an_old_receipt_is_not_honoured(app, client, upstream, clock):
    response = _look_up(client)
    clock.advance(timedelta(minutes=3))
    assert client.get(response.location).status_code == 200
    assert _count(app) == 2


def test_a_receipt_never_redeemed_is_cleared_by_a_later_lookup(
    app, client, upstream, clock, monkeypatch
):
    from app.lookup import receipts

    monkeypatch.setitem(receipts._purge, "next", 0.0)
    _look_up(client)  # its page is never opened (a closed tab)
    clock.advance(timedelta(seconds=receipts.RECEIPT_SECONDS + 1))
    monkeypatch.setitem(receipts._purge, "next", 0.0)  # the purge is due again
    _look_up(client)
    assert _count(app, LookupReceipt) == 1  # only the new lookup's


@contextmanager
def committed_writes(app) -> Iterator[list[list[str]]]:
    """The tables written by each transaction committed in the block, in commit order."""
    with app.app_context():
        engine = db.engine
    done: list[list[str]] = []
    pending: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        words = statement.split()
        if words[0] in ("INSERT", "UPDATE", "DELETE"):
            pending.append(words[2] if words[0] != "UPDATE" else words[1])

    def on_commit(conn) -> None:
        if pending:
            done.append(list(pending))
            pending.clear()

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield done
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def test_a_lookup_writes_its_record_and_receipt_in_one_commit(app, client, upstream):
    with committed_writes(app) as writes:
        _look_up(client)
    (tables,) = writes
    assert "audit_record" in tables and "lookup_receipt" in tables


def test_a_refresh_writes_its_record_and_receipt_in_one_commit(app, client, upstream):
    with committed_writes(app) as writes:
        response = client.post(f"{MEMBER}/refresh")
    assert response.status_code == 302
    (tables,) = writes
    assert "audit_record" in tables and "lookup_receipt" in tables


def test_a_receipt_that_cannot_be_written_leaves_the_record_written_alone(app, client, upstream):
    with app.app_context():
        db.session.execute(text("DROP TABLE lookup_receipt"))
        db.session.commit()
    response = _look_up(client)
    assert _count(app) == 1
    with client.session_transaction() as session:
        assert session["just_recorded"] is None
    # No receipt to redeem: the page is shown with a record of its own.
    assert client.get(response.location).status_code == 200
    assert _count(app) == 2


def test_the_page_a_lookup_redirects_to_leaves_the_session_cookie_as_it_is(app, client, upstream):
    assert client.get("/").status_code == 200  # the lookup form: its CSRF token is in the session
    response = _look_up(client)
    page = client.get(response.location)
    assert page.status_code == 200 and _count(app) == 1
    # The receipt is used up on the server: the cookie need not change, so none is sent.
    assert "Set-Cookie" not in page.headers
    # Its dead token covers nothing: a reload, and another scope, each write their record.
    assert client.get(response.location).status_code == 200
    assert client.get(f"{MEMBER}?program=1933").status_code == 200
    assert _count(app) == 3
