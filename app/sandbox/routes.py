"""The upstream's endpoints: points balance, promised-points schedule and OAuth token."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, current_app, request

from app.sandbox.auth import OAUTH_FAILED_BODY, oauth_credentials_ok
from app.sandbox.data import DEFAULT_PROGRAM, Member
from app.sandbox.faults import ALL_FAILED_BODY, fault_response, json_response
from app.sandbox.params import (
    ApiError,
    find_by_id,
    find_by_lookup,
    parse_scope,
    refuse_past_dates,
)
from app.sandbox.payloads import balance_body, programs_body, schedule_body
from app.sandbox.state import SandboxState

bp = Blueprint("sandbox", __name__)

# Resolves the member a request names, raising ApiError when it cannot.
Finder = Callable[[SandboxState], Member]

# Endpoint name -> the kind that fault_on and the request log use.
ENDPOINT_KINDS: dict[str, str] = {
    "sandbox.balance_by_id": "balance",
    "sandbox.balance_lookup": "balance",
    "sandbox.schedule_by_id": "schedule",
    "sandbox.schedule_lookup": "schedule",
    "sandbox.oauth_token": "oauth",
    "sandbox.programs": "programs",
}
# Kinds that need Basic or OAuth credentials; the token endpoint itself needs none.
AUTHENTICATED_KINDS = ("balance", "schedule", "programs")


def state() -> SandboxState:
    """The state of the sandbox serving this request."""
    return current_app.extensions["sandbox_state"]


@bp.get("/v2/customers/lookup/points/balance")
def balance_lookup() -> Response:
    """Balance of the member named by source + identifier(s)."""
    return _balance(lambda s: find_by_lookup(s.members, request.args))


@bp.get("/v2/customers/<user_id>/points/balance")
def balance_by_id(user_id: str) -> Response:
    """Balance of the member with this Capillary id."""
    return _balance(lambda s: find_by_id(s.members, user_id))


@bp.get("/v2/customers/lookup/promisedPointsSchedule")
def schedule_lookup() -> Response:
    """Promised-points schedule of the member named by source + identifier(s)."""
    return _schedule(lambda s: find_by_lookup(s.members, request.args))


@bp.get("/v2/customers/<user_id>/promisedPointsSchedule")
def schedule_by_id(user_id: str) -> Response:
    """Promised-points schedule of the member with this Capillary id."""
    # The userId form also documents optional identifier parameters; the path id wins.
    return _schedule(lambda s: find_by_id(s.members, user_id))


@bp.get("/v2/organization/programs")
def programs() -> Response:
    """The org's loyalty programs (capillary-api.md 7.3)."""
    return json_response(programs_body(DEFAULT_PROGRAM), 200)


@bp.post("/v3/oauth/token/generate")
def oauth_token() -> Response:
    """Issue an access token for a valid key and secret."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or "key" not in payload or "secret" not in payload:
        body = {
            "data": None,
            "errors": [{"status": False, "code": 400, "message": "key and secret are required"}],
        }
        return json_response(body, 400)
    current = state()
    if not oauth_credentials_ok(payload["key"], payload["secret"], current):
        return json_response(OAUTH_FAILED_BODY, 401)
    token, ttl = current.issue_token()
    return json_response({"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None}, 200)


def _balance(find: Finder) -> Response:
    current = state()
    scope = parse_scope(request.args, current.today, with_dates=False)
    member = find(current)
    answer = canned(member.balance_answer)
    return answer or json_response(balance_body(member, scope), 200)


def _schedule(find: Finder) -> Response:
    current = state()
    scope = parse_scope(request.args, current.today, with_dates=True)
    member = find(current)
    if member.schedule_fails:
        return json_response(ALL_FAILED_BODY, 500)
    answer = canned(member.schedule_answer)
    if answer is not None:
        return answer
    if member.refuses_past_dates:
        refuse_past_dates(scope, current.today)
    return json_response(schedule_body(member, scope), 200)


def canned(shape: str | None) -> Response | None:
    """A shape member's documented answer in place of its body (a fault mode's answer)."""
    return None if shape is None else fault_response(shape)


def api_error(error: ApiError) -> Response:
    """Answer an API-level refusal with the documented errors[] body."""
    return json_response(error.body(), error.status)
