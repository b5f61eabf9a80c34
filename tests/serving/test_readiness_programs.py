"""/readyz checks the configured programs against v2/organization/programs and names any
the org does not have (capillary-api.md 7.3), over real HTTP."""

from __future__ import annotations

import re

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.capillary_support import to_json

NOT_FOUND = {"errors": [{"code": 8015, "message": "Customer not found"}]}


def readyz(app) -> dict:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    return response.json


def test_the_sandbox_org_has_every_configured_program(make_app, upstream):
    body = readyz(make_app(READINESS_CACHE_SECONDS=0))
    assert body["status"] == "ready"
    assert body["programs"] == "all known"


def answering(programs: object, status: int = 200):
    def handler(request: Request) -> Response:
        if request.path.endswith("/organization/programs"):
            return Response(to_json(programs), status=status, content_type="application/json")
        return Response(to_json(NOT_FOUND), status=200, content_type="application/json")

    return handler


@pytest.fixture
def org(httpserver: HTTPServer, make_app):
    def make(programs: object, status: int = 200, **overrides):
        httpserver.expect_request(re.compile(".*")).respond_with_handler(
            answering(programs, status)
        )
        settings = {
            "CAPILLARY_BASE_URL": httpserver.url_for("/"),
            "READINESS_CACHE_SECONDS": 0,
            "CAPILLARY_PROGRAMS": {2199: "Gold Club", 1933: "Partner Rewards"},
        }
        return make_app(**(settings | overrides))

    return make


def test_a_configured_program_the_org_does_not_have_is_named(org):
    body = readyz(org({"data": [{"programId": 2199, "programName": "Gold"}]}))
    assert body["programs"] == "not known to the org: Partner Rewards (1933)"
    # Said, not failed on: the other programs' balances still answer.
    assert body["status"] == "ready"


def test_a_bare_list_of_programs_is_read_too(org):
    body = readyz(org([{"programId": 2199}, {"programId": 1933}]))
    assert body["programs"] == "all known"
    # With no configured programs there is nothing to check, and nothing said.
    body = readyz(org([{"programId": 1}], CAPILLARY_PROGRAMS={}, CAPILLARY_DEFAULT_PROGRAM=None))
    assert "programs" not in body


def test_a_program_list_that_cannot_be_read_says_so(org):
    body = readyz(org({"errors": [{"code": 4000, "message": "denied"}]}, 403))
    assert body["programs"] == "could not be checked (AccessDenied)"
