"""The input faults on PostgreSQL, where a NUL or an out-of-range OFFSET is a DataError: each
is a 400 here too, the route fuzz finds no 500, and lookup receipts are single-use."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.extensions import db
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, sign_in
from tests.support.route_fuzz import fuzz_every_route

pytestmark = pytest.mark.postgres

BAD = [
    "/admin/audit?page=99999999999999999999",
    "/admin/audit?staff=%00",
    "/admin/audit?date_to=9999-12-31",
    "/admin/audit.csv?date_to=9999-12-31",
    "/admin/audit.csv?staff=a%00b",
]


@pytest.fixture
def app_on_postgres(request):
    return request.getfixturevalue("pg_app")


@pytest.mark.parametrize("url", BAD)
def test_bad_filters_are_a_400_on_postgresql(app_on_postgres, url):
    client = sign_in(app_on_postgres.test_client(), ADMIN)
    assert client.get(url).status_code == 400


def test_a_nul_in_the_sign_in_name_is_a_400_on_postgresql(app_on_postgres):
    response = app_on_postgres.test_client().post(
        "/login", data={"username": "agent\x00", "password": TEST_PASSWORD}
    )
    assert response.status_code == 400


def test_no_route_answers_a_generated_request_with_a_500_on_postgresql(app_on_postgres, upstream):
    app_on_postgres.config.update(
        LOOKUP_RATE_LIMIT="100000 per minute", MEMBER_PAGE_RATE_LIMIT="100000 per minute"
    )
    assert fuzz_every_route(app_on_postgres, examples=150) == []


def test_concurrent_replays_of_one_lookup_cookie_are_each_recorded(app_on_postgres, upstream):
    client = sign_in(app_on_postgres.test_client(), AGENT)
    form = {"identifier_type": "mobile", "identifier": "919800000001", "program": "all"}
    location = client.post("/lookup", data=form).location
    cookie = client.get_cookie("session").value
    start = threading.Barrier(20)

    def view(_: int) -> int:
        replay = app_on_postgres.test_client()
        replay.set_cookie("session", cookie)
        start.wait()
        return replay.get(location).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(view, range(20))) == [200] * 20
    with app_on_postgres.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditRecord)) == 1 + 19
