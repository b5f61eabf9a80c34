"""The sandbox's own small Flask app: request log, latency, faults, auth, request ids."""

from __future__ import annotations

import time
import uuid

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from app.sandbox import story_routes
from app.sandbox.auth import AUTH_FAILED_BODY, OAUTH_HEADER, authenticated
from app.sandbox.faults import applies, fault_response, from_cdn, json_response
from app.sandbox.params import ApiError
from app.sandbox.routes import AUTHENTICATED_KINDS, ENDPOINT_KINDS, api_error, bp, state
from app.sandbox.state import LoggedRequest, SandboxState

# Headers kept in the request log: only the credentials tests assert a client sent. Nothing
# else is held in memory (the log itself is bounded, see state.REQUEST_LOG_MAX).
LOGGED_HEADERS = ("Authorization", OAUTH_HEADER)
REQUEST_ID_HEADER = "X-Cap-Requestid"


def create_sandbox_app(state: SandboxState) -> Flask:
    """Build the stand-in upstream's WSGI app over the given state."""
    app = Flask(__name__)
    app.extensions["sandbox_state"] = state
    app.register_blueprint(bp)
    app.register_blueprint(story_routes.bp)
    app.before_request(_before)
    app.after_request(_add_request_id)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _before() -> Response | None:
    """Log the request, then apply latency, any fault, and the credential check."""
    current = state()
    endpoint = request.endpoint or ""
    kind = ENDPOINT_KINDS.get(endpoint) or story_routes.ENDPOINT_KINDS.get(endpoint)
    current.record(
        LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(),
            headers={h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers},
            kind=kind,
            at=time.monotonic(),
        )
    )
    settings = current.settings
    current.sleep(settings.latency)
    # Faults come before auth: a failing gateway or overloaded upstream answers whatever
    # credentials the request carries.
    if applies(settings.fault, settings.fault_on, kind):
        if settings.fault == "slow":
            # Then answer normally: by now the client should have timed out and gone.
            current.sleep(settings.slow_seconds)
        else:
            return fault_response(settings.fault)
    needs_credentials = kind in AUTHENTICATED_KINDS or kind in story_routes.KINDS
    if needs_credentials and not authenticated(request.headers, current):
        return json_response(AUTH_FAILED_BODY, 401)
    return None


def _add_request_id(response: Response) -> Response:
    """Every answer of the API carries a fresh request id, as the upstream's do (docs 5)."""
    if not from_cdn(response):
        response.headers[REQUEST_ID_HEADER] = uuid.uuid4().hex
    return response


def _http_error(error: HTTPException) -> Response:
    """Unknown paths and methods answer in the documented JSON error shape too."""
    status = error.code or 500
    body = {
        "warnings": [],
        "errors": [{"status": False, "code": status, "message": error.name}],
    }
    return json_response(body, status)
