"""Sandbox auth (Basic, OAuth), fault injection, latency and the request log, over HTTP."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from app.sandbox.auth import basic_header, md5_hex
from app.sandbox.data import MEMBER_DOC_BALANCE, MEMBER_MULTI_PROGRAM
from app.sandbox.server import SandboxServer, start_sandbox
from app.sandbox.state import REQUEST_LOG_MAX, LoggedRequest, SandboxState

BALANCE = f"v2/customers/{MEMBER_DOC_BALANCE}/points/balance"
SCHEDULE = f"v2/customers/{MEMBER_MULTI_PROGRAM}/promisedPointsSchedule"
TOKEN = "v3/oauth/token/generate"
AUTH_FAILED = {
    "warnings": [],
    "errors": [{"status": False, "code": 401, "message": "Authentication failed"}],
}
ALL_FAILED = {
    "warnings": [],
    "errors": [{"status": False, "message": "All requests have failed due to errors", "code": 500}],
}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """A sandbox of this module's own, since these tests change its settings."""
    started = start_sandbox()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _reset(server: SandboxServer) -> Iterator[None]:
    server.reset()
    yield
    server.reset()


def basic(server: SandboxServer) -> dict[str, str]:
    """Headers with the sandbox's Basic login."""
    return {"Authorization": basic_header(server.username, server.password)}


def call(
    server: SandboxServer,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    **kwargs: object,
) -> requests.Response:
    """One request in its own session; the body is read before the session closes."""
    with requests.Session() as session:
        response = session.request(
            method, server.url + path, headers=headers, timeout=timeout, **kwargs
        )
        response.content
        return response


def issue_token(server: SandboxServer) -> str:
    """A fresh OAuth token from the sandbox."""
    response = call(
        server,
        TOKEN,
        method="POST",
        json={"key": server.oauth_key, "secret": server.oauth_secret},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["accessToken"]


def assert_request_id(response: requests.Response) -> None:
    """Every answer carries a uuid4 hex request id."""
    assert uuid.UUID(hex=response.headers["X-Cap-Requestid"]).version == 4


# --- Basic ---------------------------------------------------------------------------------


def test_basic_header_is_built_as_documented() -> None:
    # The docs' worked example (capillary-api.md 3.1) encodes "store123:<digest>" as shown,
    # but its digest bdc87b9c... is NOT md5("Pass123") (that is 2f23fa35...): the example's
    # digest is wrong, its layout right. The layout is what is checked here.
    documented = "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="
    assert base64.b64decode(documented.split()[1]) == b"store123:bdc87b9c894da5168059e00ebffb9077"
    assert md5_hex("Pass123") == "2f23fa3579f3f75175793649115c1b25"
    built = basic_header("store123", "Pass123")
    assert built.startswith("Basic ")
    assert base64.b64decode(built.split()[1]) == b"store123:2f23fa3579f3f75175793649115c1b25"


def test_basic_login_is_accepted(server: SandboxServer) -> None:
    response = call(server, BALANCE, headers=basic(server))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + "cG9pbnRzZGVzay50aWxsOnNhbmRib3gtcGFzcy0xMjM=",  # plain password, not md5
        basic_header("someone.else", "sandbox-pass-123"),
        basic_header("pointsdesk.till", "wrong"),
        "Basic !!!not-base64!!!",
        "Bearer abc",
    ],
    ids=["none", "plain-password", "wrong-user", "wrong-password", "garbage", "bearer"],
)
def test_bad_basic_login_is_401(server: SandboxServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in (BALANCE, SCHEDULE):
        response = call(server, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == AUTH_FAILED
        assert_request_id(response)


# --- OAuth ---------------------------------------------------------------------------------


def test_oauth_token_is_issued_in_the_documented_shape(server: SandboxServer) -> None:
    response = call(
        server, TOKEN, method="POST", json={"key": server.oauth_key, "secret": server.oauth_secret}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "errors"}
    assert body["errors"] is None
    assert body["data"]["ttlSeconds"] == 300
    assert isinstance(body["data"]["accessToken"], str) and len(body["data"]["accessToken"]) > 20
    assert_request_id(response)


def test_oauth_token_is_accepted_and_unique(server: SandboxServer) -> None:
    first, second = issue_token(server), issue_token(server)
    assert first != second
    for token in (first, second):
        response = call(server, SCHEDULE, headers={"X-CAP-API-OAUTH-TOKEN": token})
        assert response.status_code == 200


def test_unknown_oauth_token_is_401(server: SandboxServer) -> None:
    response = call(server, BALANCE, headers={"X-CAP-API-OAUTH-TOKEN": "made-up"})
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


@pytest.mark.parametrize(
    "payload",
    [
        {"key": "wrong", "secret": "pointsdesk-sandbox-secret"},
        {"key": "pointsdesk-sandbox-key", "secret": "wrong"},
    ],
    ids=["bad-key", "bad-secret"],
)
def test_bad_oauth_credentials_are_401(server: SandboxServer, payload: dict[str, str]) -> None:
    response = call(server, TOKEN, method="POST", json=payload)
    assert response.status_code == 401
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["code"] == 401
    assert body["errors"][0]["status"] is False
    assert_request_id(response)


def test_token_request_without_key_and_secret_is_400(server: SandboxServer) -> None:
    response = call(server, TOKEN, method="POST", data="not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 400


def test_oauth_token_expires_after_its_ttl(server: SandboxServer) -> None:
    server.configure(oauth_ttl=1)
    response = call(
        server, TOKEN, method="POST", json={"key": server.oauth_key, "secret": server.oauth_secret}
    )
    assert response.json()["data"]["ttlSeconds"] == 1
    token = response.json()["data"]["accessToken"]
    assert call(server, BALANCE, headers={"X-CAP-API-OAUTH-TOKEN": token}).status_code == 200
    time.sleep(1.1)
    expired = call(server, BALANCE, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert expired.status_code == 401
    assert expired.json() == AUTH_FAILED


# --- faults --------------------------------------------------------------------------------


def test_fault_error_is_the_documented_500(server: SandboxServer) -> None:
    server.configure(fault="error")
    for path in (BALANCE, SCHEDULE):
        response = call(server, path, headers=basic(server))
        assert response.status_code == 500
        assert response.json() == ALL_FAILED
        assert_request_id(response)


def test_fault_unavailable_is_503_with_retry_after(server: SandboxServer) -> None:
    server.configure(fault="unavailable")
    response = call(server, BALANCE, headers=basic(server))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3600"
    assert response.json()["errors"][0]["code"] == 503


def test_fault_malformed_is_200_with_truncated_json(server: SandboxServer) -> None:
    server.configure(fault="malformed")
    response = call(server, BALANCE, headers=basic(server))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_fault_html_is_a_502_gateway_page(server: SandboxServer) -> None:
    server.configure(fault="html")
    response = call(server, SCHEDULE, headers=basic(server))
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text
    assert_request_id(response)


def test_fault_slow_makes_the_client_time_out(server: SandboxServer) -> None:
    server.configure(fault="slow", slow_seconds=30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(server, BALANCE, headers=basic(server), timeout=(1, 0.3))


def test_slow_fault_sleep_ends_when_the_server_stops() -> None:
    own = start_sandbox(fault="slow")  # the default 30 s hold
    outcome: list[BaseException | int] = []

    def client() -> None:
        try:
            outcome.append(call(own, BALANCE, headers=basic(own), timeout=(1, 20)).status_code)
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    # Stop only once the request is in the sleeping handler (bounded wait).
    for _ in range(200):
        if own.request_log():
            break
        time.sleep(0.05)
    assert own.request_log(), "the request reached the sandbox"
    own.stop()
    thread.join(10)  # the hold is 30 s: only stop() can have ended it within the join
    assert not thread.is_alive()
    assert len(outcome) == 1


@pytest.mark.parametrize(
    ("fault_on", "balance", "schedule", "oauth"),
    [
        ("balance", 500, 200, 200),
        ("schedule", 200, 500, 200),
        ("oauth", 200, 200, 500),
        (None, 500, 500, 500),
    ],
)
def test_fault_on_limits_the_fault_to_one_endpoint_kind(
    server: SandboxServer, fault_on: str | None, balance: int, schedule: int, oauth: int
) -> None:
    server.configure(fault="error", fault_on=fault_on)
    assert call(server, BALANCE, headers=basic(server)).status_code == balance
    assert call(server, SCHEDULE, headers=basic(server)).status_code == schedule
    token = call(
        server, TOKEN, method="POST", json={"key": server.oauth_key, "secret": server.oauth_secret}
    )
    assert token.status_code == oauth


def test_configure_keeps_what_it_is_not_given_and_none_clears(server: SandboxServer) -> None:
    server.configure(fault="html", fault_on="schedule")
    server.configure(latency=0.0)
    assert (server.settings.fault, server.settings.fault_on) == ("html", "schedule")
    server.configure(fault=None)
    assert server.settings.fault is None
    assert call(server, SCHEDULE, headers=basic(server)).status_code == 200


def test_configure_rejects_unknown_faults(server: SandboxServer) -> None:
    with pytest.raises(ValueError):
        server.configure(fault="explode")
    with pytest.raises(ValueError):
        server.configure(fault_on="tiers")
    with pytest.raises(ValueError):
        start_sandbox(fault="explode")
    assert server.settings.fault is None


def test_fault_set_at_start_applies() -> None:
    own = start_sandbox(fault="unavailable")
    try:
        assert call(own, BALANCE, headers=basic(own)).status_code == 503
    finally:
        own.stop()


def test_faults_apply_before_auth(server: SandboxServer) -> None:
    server.configure(fault="unavailable")
    assert call(server, BALANCE).status_code == 503


# --- latency and the request log -----------------------------------------------------------


def test_latency_is_applied_to_every_answer(server: SandboxServer) -> None:
    server.configure(latency=0.3)
    for path in (BALANCE, "v2/customers/1/nothing"):
        started = time.monotonic()
        call(server, path, headers=basic(server))
        assert time.monotonic() - started >= 0.3


def test_latency_set_at_start_applies_to_faults_too() -> None:
    own = start_sandbox(latency=0.2, fault="error")
    try:
        started = time.monotonic()
        assert call(own, BALANCE, headers=basic(own)).status_code == 500
        assert time.monotonic() - started >= 0.2
    finally:
        own.stop()


def test_request_log_records_and_clears(server: SandboxServer) -> None:
    server.clear_log()
    token = issue_token(server)
    call(
        server,
        "v2/customers/lookup/points/balance",
        headers={"X-CAP-API-OAUTH-TOKEN": token, "Accept": "application/json"},
        params={"source": "INSTORE", "identifierName": "mobile", "identifierValue": "919800000001"},
    )
    call(server, SCHEDULE, headers=basic(server), params={"programId": "1933"})
    log = server.request_log()
    assert [(e.method, e.kind) for e in log] == [
        ("POST", "oauth"),
        ("GET", "balance"),
        ("GET", "schedule"),
    ]
    assert log[1].path == "/v2/customers/lookup/points/balance"
    assert log[1].query == {
        "source": "INSTORE",
        "identifierName": "mobile",
        "identifierValue": "919800000001",
    }
    assert log[1].headers["X-CAP-API-OAUTH-TOKEN"] == token
    assert log[2].headers["Authorization"] == basic_header(server.username, server.password)
    assert log[2].query == {"programId": "1933"}
    server.clear_log()
    assert server.request_log() == []


def test_request_log_keeps_only_the_credential_headers(server: SandboxServer) -> None:
    server.clear_log()
    call(
        server,
        BALANCE,
        headers={**basic(server), "Accept": "application/json", "User-Agent": "probe/1"},
    )
    [entry] = server.request_log()
    assert set(entry.headers) == {"Authorization"}


def test_request_log_is_bounded_and_keeps_the_newest() -> None:
    state = SandboxState()
    total = REQUEST_LOG_MAX + 25
    for n in range(total):
        state.record(LoggedRequest("GET", f"/{n}", {}, {}, None, float(n)))
    log = state.request_log()
    assert len(log) == REQUEST_LOG_MAX
    assert log[0].path == f"/{total - REQUEST_LOG_MAX}"
    assert log[-1].path == f"/{total - 1}"


def test_request_log_is_complete_under_concurrency(server: SandboxServer) -> None:
    server.clear_log()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                call(server, BALANCE, headers=basic(server))
        except requests.RequestException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert len([e for e in server.request_log() if e.kind == "balance"]) == 40
