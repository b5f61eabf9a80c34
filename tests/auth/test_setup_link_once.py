"""A one-time setup link sets one password, even when it is posted several times at once
(claimed with one conditional UPDATE), on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.auth import staffing
from app.auth.models import StaffEvent, StaffUser
from app.extensions import db

POSTS = 8


@pytest.mark.postgres
def test_eight_posts_of_one_setup_link_at_once_set_one_password(pg_app):
    with pg_app.app_context():
        user, token = staffing.add("new.person", "agent")
    path = f"/welcome/{token}"
    assert pg_app.test_client().get(path).status_code == 200
    start = threading.Barrier(POSTS)
    statuses: list[int] = []

    def post(n: int) -> None:
        client = pg_app.test_client()
        password = f"a long password number {n}"
        start.wait()
        response = client.post(path, data={"password": password, "repeat": password})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [303] + [404] * (POSTS - 1)
    with pg_app.app_context():
        account = db.session.scalar(select(StaffUser).where(StaffUser.username == "new.person"))
        assert account.setup_token_hash is None
        events = db.session.scalars(
            select(StaffEvent.action).where(StaffEvent.target == "new.person")
        ).all()
    assert events.count("set password") == 1
