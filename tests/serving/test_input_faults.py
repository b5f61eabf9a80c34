"""Values that used to reach the database and end in a 500: control characters, dates past
what date arithmetic can hold, page numbers past what an OFFSET can hold. Each is a 400 that
says what is wrong, on SQLite here and on PostgreSQL in test_faults_postgres.py."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import AGENT, normalize_spaces, soup

BAD_QUERIES = {
    "date_to far ahead": "date_to=9999-12-31",
    "date_from far ahead": "date_from=9999-12-31",
    "date_from year 1": "date_from=0001-01-01",
    "huge page": "page=99999999999999999999",
    "page zero": "page=0",
    "page not a number": "page=two",
    "NUL in staff": "staff=%00",
    "escape in staff": "staff=a%1bb",
    "NUL in a key": "st%00aff=x",
    "NUL in outcome": "outcome=found%00",
    "member id past a float": "member_id=" + "9" * 400,
    "member id past 64 bits": "member_id=9223372036854775808",
}


def _message(response) -> str:
    return normalize_spaces(soup(response).select_one("main .error-message, main").get_text())


CASES = [("/admin/audit", query) for query in BAD_QUERIES.values()] + [
    ("/admin/audit.csv", query) for query in BAD_QUERIES.values() if not query.startswith("page=")
]  # the export has no pages: it ignores page=


@pytest.mark.parametrize(("path", "query"), CASES)
def test_bad_audit_filters_are_a_400(admin_client, path, query):
    response = admin_client.get(f"{path}?{query}")
    assert response.status_code == 400, response.status_code


def test_the_400_for_a_far_date_names_the_range(admin_client):
    response = admin_client.get("/admin/audit?date_to=9999-12-31")
    errors = [normalize_spaces(e.get_text()) for e in soup(response).select(".error-summary li")]
    assert any("between 2000-01-01 and 2999-12-31" in text for text in errors), errors


def test_the_400_for_a_huge_member_id_says_what_a_member_id_is(admin_client):
    for path in ("/admin/audit", "/admin/audit/member"):
        response = admin_client.get(path, query_string={"member_id": "9" * 400})
        assert response.status_code == 400, path
        errors = [
            normalize_spaces(e.get_text()) for e in soup(response).select(".error-summary li")
        ]
        assert any("Enter a whole number from" in text for text in errors), (path, errors)


def test_the_400_for_a_huge_page_says_what_a_page_number_is(admin_client):
    response = admin_client.get("/admin/audit?page=99999999999999999999")
    assert "whole number from 1 to 100,000" in _message(response)


def test_the_last_day_allowed_still_works(admin_client):
    assert admin_client.get("/admin/audit?date_to=2999-12-31&page=100000").status_code == 200
    assert admin_client.get("/admin/audit.csv?date_to=2999-12-31").status_code == 200


@pytest.mark.parametrize("name", ["agent\x00", "\x00", "a\x7fb", "x\x1b[31m"])
def test_a_control_character_in_the_sign_in_name_is_a_quiet_400(anon_client, caplog, name):
    caplog.set_level(logging.INFO)
    response = anon_client.post("/login", data={"username": name, "password": "anything"})
    assert response.status_code == 400
    assert "control character" in _message(response)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_nul_in_the_password_is_refused_before_the_password_check(anon_client):
    response = anon_client.post("/login", data={"username": AGENT, "password": "pass\x00word"})
    assert response.status_code == 400
