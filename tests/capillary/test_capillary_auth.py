"""Basic and OAuth signing, with token fetching, caching, refresh and the single 401 retry."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.capillary import AccessDenied, BasicAuth, OAuthAuth, UpstreamUnavailable
from app.capillary.auth import TOKEN_HEADER, basic_header_value, password_md5
from tests.support.capillary_support import (
    BALANCE,
    PASSWORD,
    USERNAME,
    closed_port,
    fast_client,
    to_json,
)

BALANCE_PATH = "/v2/customers/1/points/balance"
TOKEN_PATH = "/v3/oauth/token/generate"
KEY = "client-key"
SECRET = "client-secret-value"


# Basic -------------------------------------------------------------------------------------


def test_docs_worked_example_header_from_its_digest():
    # The docs give username store123 and the md5 hex bdc87b9c...; from those the documented
    # header follows exactly.
    assert (
        basic_header_value("store123", "bdc87b9c894da5168059e00ebffb9077")
        == "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="
    )


def test_docs_worked_example_digest_is_not_md5_of_its_password():
    # The docs' example is inconsistent: md5("Pass123") is not the digest they print. We
    # follow the documented formula (md5 hex of the real password), not the printed digest.
    assert password_md5("Pass123") == "2f23fa3579f3f75175793649115c1b25"
    assert BasicAuth("store123", "Pass123").headers(None) == {
        "Authorization": basic_header_value("store123", "2f23fa3579f3f75175793649115c1b25")
    }


def test_basic_header_reaches_the_server(httpserver: HTTPServer):
    expected = basic_header_value(USERNAME, password_md5(PASSWORD))
    httpserver.expect_request(BALANCE_PATH, headers={"Authorization": expected}).respond_with_data(
        to_json(BALANCE), content_type="application/json"
    )

    with fast_client(httpserver.url_for("/")) as client:
        client.get_balance(1)

    httpserver.check_assertions()
    assert PASSWORD not in repr(BasicAuth(USERNAME, PASSWORD))


# OAuth -------------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    """Token endpoint issuing tok-1, tok-2, ...; balance accepting only the newest token."""

    def __init__(self, server: HTTPServer, ttl: int = 300, refuse_balance: int = 0) -> None:
        self.server = server
        self.ttl = ttl
        self.issued: list[str] = []
        self.token_bodies: list[object] = []
        self.refuse_balance = refuse_balance  # answer this many balance calls with 401
        self.lock = threading.Lock()
        server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(self.token)
        server.expect_request(BALANCE_PATH, method="GET").respond_with_handler(self.balance)

    def token(self, request: Request) -> Response:
        with self.lock:
            self.token_bodies.append(request.get_json())
            assert "Authorization" not in request.headers
            self.issued.append(f"tok-{len(self.issued) + 1}")
            body = {"data": {"accessToken": self.issued[-1], "ttlSeconds": self.ttl}}
        return Response(to_json({**body, "errors": None}), content_type="application/json")

    def balance(self, request: Request) -> Response:
        with self.lock:
            if self.refuse_balance > 0:
                self.refuse_balance -= 1
                return Response("", status=401)
            if request.headers.get(TOKEN_HEADER) != self.issued[-1]:
                return Response('{"errors": [{"code": 401, "message": "bad token"}]}', 401)
        return Response(to_json(BALANCE), content_type="application/json")

    def count(self, path: str) -> int:
        return sum(1 for request, _ in self.server.log if request.path == path)


def oauth_client(server: HTTPServer, clock: FakeClock | None = None, **overrides):
    return fast_client(
        server.url_for("/"), OAuthAuth(KEY, SECRET, clock=clock or FakeClock()), **overrides
    )


def test_token_is_fetched_once_and_reused(httpserver: HTTPServer):
    upstream = Upstream(httpserver)

    with oauth_client(httpserver) as client:
        for _ in range(4):
            client.get_balance(1)

    assert upstream.count(TOKEN_PATH) == 1
    assert upstream.count(BALANCE_PATH) == 4
    assert upstream.token_bodies == [{"key": KEY, "secret": SECRET}]
    balance_requests = [r for r, _ in httpserver.log if r.path == BALANCE_PATH]
    assert all(r.headers[TOKEN_HEADER] == "tok-1" for r in balance_requests)
    assert all("Authorization" not in r.headers for r in balance_requests)


@pytest.mark.parametrize(("ttl", "still_fresh", "refreshed"), [(300, 269, 271), (10, 8.9, 9.1)])
def test_token_is_refreshed_shortly_before_it_runs_out(httpserver, ttl, still_fresh, refreshed):
    upstream = Upstream(httpserver, ttl=ttl)
    clock = FakeClock()

    with oauth_client(httpserver, clock) as client:
        client.get_balance(1)
        clock.now += still_fresh
        client.get_balance(1)
        assert upstream.count(TOKEN_PATH) == 1
        clock.now += refreshed - still_fresh
        client.get_balance(1)

    assert upstream.count(TOKEN_PATH) == 2
    last = [r for r, _ in httpserver.log if r.path == BALANCE_PATH][-1]
    assert last.headers[TOKEN_HEADER] == "tok-2"


def test_one_401_fetches_a_fresh_token_and_retries_once(httpserver):
    upstream = Upstream(httpserver)

    with oauth_client(httpserver) as client:
        client.get_balance(1)
        upstream.refuse_balance = 1
        balance = client.get_balance(1)

    assert balance.entity_id == 565039505
    assert upstream.count(TOKEN_PATH) == 2
    assert upstream.count(BALANCE_PATH) == 3


def test_second_401_is_access_denied_without_a_loop(httpserver):
    upstream = Upstream(httpserver, refuse_balance=100)

    with oauth_client(httpserver) as client, pytest.raises(AccessDenied) as caught:
        client.get_balance(1)

    assert upstream.count(TOKEN_PATH) == 2
    assert upstream.count(BALANCE_PATH) == 2
    assert caught.value.status == 401
    text = f"{caught.value} {caught.value!r}"
    assert SECRET not in text
    assert "tok-" not in text


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, '{"data": null, "errors": [{"code": 1234, "message": "Invalid key"}]}'),
        (200, '{"data": null, "errors": [{"code": 1234, "message": "Invalid key"}]}'),
        (200, '{"data": {"accessToken": "", "ttlSeconds": 300}, "errors": null}'),
        (200, '{"data": {"accessToken": "t", "ttlSeconds": "300"}, "errors": null}'),
        (200, "<html>login</html>"),
    ],
)
def test_token_endpoint_failure_is_access_denied(httpserver, status, body):
    httpserver.expect_request(TOKEN_PATH).respond_with_data(body, status=status)

    with oauth_client(httpserver) as client, pytest.raises(AccessDenied) as caught:
        client.get_balance(1)

    assert "Failed to generate OAuth token" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.status == status
    assert [r.path for r, _ in httpserver.log] == [TOKEN_PATH]  # POST: never retried


def test_token_endpoint_5xx_is_unavailable_not_denied(httpserver):
    httpserver.expect_request(TOKEN_PATH).respond_with_data("", status=503)

    with oauth_client(httpserver) as client, pytest.raises(UpstreamUnavailable) as caught:
        client.get_balance(1)

    assert type(caught.value) is UpstreamUnavailable
    assert "Failed to generate OAuth token (HTTP 503)" in str(caught.value)
    assert len(httpserver.log) == 1


def test_token_endpoint_unreachable_is_unavailable_not_denied():
    auth = OAuthAuth(KEY, SECRET)
    with fast_client(f"http://127.0.0.1:{closed_port()}/", auth) as client:
        with pytest.raises(UpstreamUnavailable) as caught:
            client.get_balance(1)

    assert type(caught.value) is UpstreamUnavailable
    assert SECRET not in str(caught.value)


def test_concurrent_first_calls_fetch_one_token():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    upstream = Upstream(server)

    def slow_token(request: Request) -> Response:
        time.sleep(0.2)  # long enough for every thread to find the cache empty
        return upstream.token(request)

    server.clear_all_handlers()
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(slow_token)
    server.expect_request(re.compile("/v2/.*")).respond_with_handler(upstream.balance)
    server.start()
    try:
        with oauth_client(server, deadline=5.0, read_timeout=3.0) as client:
            with ThreadPoolExecutor(max_workers=10) as pool:
                results = list(pool.map(lambda _: client.get_balance(1), range(10)))
    finally:
        server.clear()
        server.stop()

    assert len(results) == 10
    assert upstream.issued == ["tok-1"]
