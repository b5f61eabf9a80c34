"""Every route, every parameter, odd values: never a 500 (SQLite here; PostgreSQL in
test_faults_postgres.py)."""

from __future__ import annotations

from tests.support.route_fuzz import fuzz_every_route

UNLIMITED = {
    "LOOKUP_RATE_LIMIT": "100000 per minute",
    "MEMBER_PAGE_RATE_LIMIT": "100000 per minute",
}


def test_no_route_answers_any_generated_request_with_a_500(make_app, upstream):
    app = make_app(**UNLIMITED)
    assert fuzz_every_route(app, examples=600) == []
