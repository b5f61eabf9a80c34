"""Transport behaviour over real sockets: retries, timeouts, deadline, size caps, redirects."""

from __future__ import annotations

import gzip
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.capillary import (
    Identifier,
    MalformedResponse,
    MemberLookup,
    MemberNotFound,
    OAuthAuth,
    UpstreamApiError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.capillary.policy import RETRY_POLICY
from app.capillary.transport import BASE_HEADERS, no_library_retries
from tests.support.capillary_support import (
    BALANCE,
    PASSWORD,
    SHORT,
    RawServer,
    closed_port,
    fast_client,
    read_request,
    to_json,
)

PATH = "/v2/customers/1/points/balance"
SECRET_ID = "secret.member@example.com"
LOOKUP = MemberLookup(identifiers=(Identifier("email", SECRET_ID),))


@pytest.fixture
def client(httpserver: HTTPServer):
    """A fast client pointed at the test server, closed afterwards."""
    with fast_client(httpserver.url_for("/")) as made:
        yield made


def attempts(httpserver: HTTPServer) -> int:
    """How many requests the server saw."""
    return len(httpserver.log)


def assert_clean(error: Exception) -> None:
    """No identifier value, credential or query string in the error text."""
    text = f"{error} {error!r}"
    assert SECRET_ID not in text
    assert "secret.member" not in text
    assert PASSWORD not in text
    assert "identifierValue" not in text
    assert "http://" not in text


# Retries -----------------------------------------------------------------------------------


def test_503_twice_then_200_succeeds_on_the_third_attempt(httpserver, client):
    for _ in range(2):
        httpserver.expect_oneshot_request(PATH).respond_with_json({}, status=503)
    httpserver.expect_request(PATH).respond_with_data(
        to_json(BALANCE), content_type="application/json"
    )

    balance = client.get_balance(1)

    assert balance.entity_id == 565039505
    assert attempts(httpserver) == 3


@pytest.mark.parametrize("status", [461, 502, 503, 504, 521])
def test_retryable_statuses_are_tried_three_times_then_reported(httpserver, client, status):
    body = {"errors": [{"code": status, "message": "busy"}]}
    httpserver.expect_request(PATH).respond_with_json(body, status=status)

    with pytest.raises(UpstreamApiError if status < 500 else UpstreamUnavailable) as caught:
        client.get_balance(1)

    assert attempts(httpserver) == 3
    assert (caught.value.code, caught.value.status) == (status, status)


@pytest.mark.parametrize(
    ("code", "status"), [(461, 200), (521, 400), (503, 200), (4001, 403), (4001, 503)]
)
def test_retryable_codes_inside_errors_are_retried(httpserver, client, code, status):
    body = {"warnings": [], "errors": [{"status": False, "code": code, "message": "later"}]}
    httpserver.expect_oneshot_request(PATH).respond_with_json(body, status=status)
    httpserver.expect_request(PATH).respond_with_data(
        to_json(BALANCE), content_type="application/json"
    )

    assert client.get_balance(1).entity_id == 565039505
    assert attempts(httpserver) == 2


def test_a_retryable_code_in_a_200_is_reported_after_the_attempt_budget(httpserver, client):
    body = {"errors": [{"code": 461, "message": "search busy"}]}
    httpserver.expect_request(PATH).respond_with_json(body)

    with pytest.raises(UpstreamApiError) as caught:
        client.get_balance(1)

    assert attempts(httpserver) == 3
    assert (caught.value.code, caught.value.status) == (461, 200)


def test_a_refusal_in_errors_is_not_retried(httpserver, client):
    body = {"errors": [{"code": 8015, "message": "not found"}]}
    httpserver.expect_request(PATH).respond_with_json(body)

    with pytest.raises(MemberNotFound):
        client.get_balance(1)

    assert attempts(httpserver) == 1


def test_500_is_not_retried(httpserver, client):
    httpserver.expect_request(PATH).respond_with_json({}, status=500)

    with pytest.raises(UpstreamUnavailable) as caught:
        client.get_balance(1)

    assert attempts(httpserver) == 1
    assert caught.value.status == 500


def test_retry_after_an_hour_does_not_sleep(httpserver, client):
    httpserver.expect_request(PATH).respond_with_json(
        {}, status=503, headers={"Retry-After": "3600"}
    )

    # Honouring it would hold the call for an hour (pytest-timeout would then fail the test).
    with pytest.raises(UpstreamUnavailable):
        client.get_balance(1)

    assert attempts(httpserver) == 3


def test_urllib3_makes_one_attempt_and_follows_no_redirect():
    # Transport.send retries, so each attempt's timeouts can be cut to the time left.
    retry = no_library_retries()
    assert retry.total == 0
    assert retry.redirect == 0
    assert retry.raise_on_status is False
    assert 500 not in RETRY_POLICY.statuses and 500 not in RETRY_POLICY.codes


# Connection failures and timeouts ----------------------------------------------------------


def test_connection_refused_is_unavailable():
    with fast_client(f"http://127.0.0.1:{closed_port()}/") as client:
        with pytest.raises(UpstreamUnavailable) as caught:
            client.get_balance(LOOKUP)

    assert type(caught.value) is UpstreamUnavailable
    assert "refused" in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)
    assert_clean(caught.value)


def reset(conn: socket.socket, _: threading.Event) -> None:
    read_request(conn)
    # Linger 0: close() sends RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_connection_reset_is_unavailable_after_retries():
    with RawServer(reset) as server, fast_client(server.url) as client:
        with pytest.raises(UpstreamUnavailable) as caught:
            client.get_balance(LOOKUP)

    assert type(caught.value) is UpstreamUnavailable
    assert server.connections == 3
    assert caught.value.__cause__ is not None
    assert_clean(caught.value)


def silent(conn: socket.socket, stopped: threading.Event) -> None:
    """Read the request, then never answer: hold the connection until the test ends."""
    read_request(conn)
    stopped.wait()


def test_read_timeout_is_upstream_timeout():
    with RawServer(silent) as server, fast_client(server.url, **SHORT, retries=0) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            client.get_balance(LOOKUP)

    # The read timeout (0.5 s) ended it, not the deadline (1.5 s): the message says which.
    assert server.connections == 1
    assert "read timed out" in str(caught.value)
    assert "deadline" not in str(caught.value)
    assert_clean(caught.value)


def test_retried_read_timeouts_stop_at_the_deadline():
    with RawServer(silent) as server, fast_client(server.url, **SHORT, retries=5) as client:
        with pytest.raises(UpstreamTimeout):
            client.get_balance(1)

    # read 0.5 s x 6 attempts would be 3 s; the 1.5 s deadline ends it after three at most.
    assert 1 <= server.connections <= 3


def test_an_attempt_started_near_the_deadline_gets_only_the_time_left():
    # Attempt 1 times out at 1.0 s; attempt 2 starts at ~1.1 s with 0.4 s left, not 1.0 s:
    # it ends at the deadline, and its error says so (a full read timeout would say "timed out").
    with RawServer(silent) as server:
        with fast_client(server.url, **{**SHORT, "read_timeout": 1.0}) as client:
            with pytest.raises(UpstreamTimeout) as caught:
                client.get_balance(1)

    assert server.connections == 2
    assert "deadline" in str(caught.value)


def test_no_retry_pause_runs_past_the_deadline(httpserver):
    httpserver.expect_request(PATH).respond_with_json({}, status=503)
    with fast_client(httpserver.url_for("/"), deadline=0.25, retries=5) as client:
        with pytest.raises(UpstreamUnavailable) as caught:
            client.get_balance(1)

    # The pauses (0.1, 0.2, 0.4 s ...) do not fit in 0.25 s past the second: the last
    # answer is reported as it came, not swapped for a timeout by a pause.
    assert attempts(httpserver) <= 2
    assert caught.value.status == 503


def test_a_post_is_never_retried(httpserver):
    httpserver.expect_request("/v3/oauth/token/generate").respond_with_json({}, status=503)
    with fast_client(httpserver.url_for("/"), auth=OAuthAuth("key", "secret")) as client:
        with pytest.raises(UpstreamUnavailable):
            client.get_balance(1)

    assert attempts(httpserver) == 1


def drip(conn: socket.socket, stopped: threading.Event) -> None:
    read_request(conn)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    # A byte every 50 ms, until the test ends: each read is well inside the read timeout,
    # so only the call deadline can end the call.
    while not stopped.wait(0.05):
        conn.sendall(b" ")


def test_slow_drip_with_content_length_ends_at_the_deadline():
    with RawServer(drip) as server, fast_client(server.url, **SHORT) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            client.get_balance(LOOKUP)

    assert "deadline" in str(caught.value)
    assert_clean(caught.value)


def test_slow_drip_of_a_streamed_body_ends_at_the_deadline(httpserver):
    done = threading.Event()

    def slow(_: Request) -> Response:
        def body() -> Iterator[bytes]:
            while not done.wait(0.05):  # chunked, a byte every 50 ms until the test ends
                yield b" "

        return Response(body(), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(slow)
    try:
        with fast_client(httpserver.url_for("/"), **SHORT) as client:
            with pytest.raises(UpstreamTimeout) as caught:
                client.get_balance(1)
    finally:
        done.set()

    assert "deadline" in str(caught.value)


def stall_after_headers(conn: socket.socket, stopped: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{")
    stopped.wait()


def test_a_stall_mid_body_is_cut_at_the_deadline_not_a_full_read_timeout():
    with RawServer(stall_after_headers) as server:
        with fast_client(server.url, read_timeout=3.0, deadline=0.8, retries=0) as client:
            with pytest.raises(UpstreamTimeout) as caught:
                client.get_balance(1)

    # A full read timeout (3 s) would say "timed out"; the deadline (0.8 s) cut this read.
    assert "deadline passed while reading" in str(caught.value)


def truncated(conn: socket.socket, _: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"entityId": 1, "ent')


def test_body_cut_short_of_its_length_is_malformed():
    with RawServer(truncated) as server, fast_client(server.url) as client:
        with pytest.raises(MalformedResponse) as caught:
            client.get_balance(1)

    assert "truncated" in str(caught.value)


# Size limits -------------------------------------------------------------------------------


def test_ten_megabyte_body_is_refused_by_its_declared_length(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data(b" " * (10 * 1024 * 1024))

    with pytest.raises(MalformedResponse, match="limit"):
        client.get_balance(1)


def test_ten_megabyte_streamed_body_is_cut_at_the_limit(httpserver, client):
    def big(_: Request) -> Response:
        return Response((b" " * 65536 for _ in range(160)), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(big)

    with pytest.raises(MalformedResponse, match="limit"):
        client.get_balance(1)


def test_gzip_bomb_is_cut_at_the_decoded_limit(httpserver, client):
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 200_000
    httpserver.expect_request(PATH).respond_with_data(
        bomb, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )

    with pytest.raises(MalformedResponse, match="limit"):
        client.get_balance(1)


def test_gzip_body_within_the_limit_is_decoded(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data(
        gzip.compress(to_json(BALANCE).encode()),
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )

    assert client.get_balance(1).entity_id == 565039505


def test_broken_gzip_is_malformed(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data(
        b"not gzip at all", headers={"Content-Encoding": "gzip"}
    )

    with pytest.raises(MalformedResponse):
        client.get_balance(1)


# Redirects, cookies, headers ---------------------------------------------------------------


def test_redirect_to_another_host_is_not_followed(httpserver, client):
    with RawServer(lambda conn, _: read_request(conn)) as elsewhere:
        httpserver.expect_request("/v2/customers/lookup/points/balance").respond_with_data(
            "", status=302, headers={"Location": elsewhere.url + "steal"}
        )
        with pytest.raises(MalformedResponse) as caught:
            client.get_balance(LOOKUP)
        time.sleep(0.1)
        assert elsewhere.connections == 0

    assert "redirect" in str(caught.value)
    assert caught.value.status == 302
    assert attempts(httpserver) == 1
    assert_clean(caught.value)


def test_cookies_are_never_kept_or_sent(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data(
        to_json(BALANCE),
        content_type="application/json",
        headers={"Set-Cookie": "session=abc; Path=/"},
    )

    client.get_balance(1)
    client.get_balance(1)

    assert all("Cookie" not in request.headers for request, _ in httpserver.log)


def test_every_request_carries_json_headers(httpserver, client):
    httpserver.expect_request(PATH, headers=dict(BASE_HEADERS)).respond_with_data(
        to_json(BALANCE), content_type="application/json"
    )

    client.get_balance(1)

    httpserver.check_assertions()
    assert attempts(httpserver) == 1


def test_close_releases_sessions_and_the_client_still_works_after(httpserver):
    httpserver.expect_request(PATH).respond_with_data(
        to_json(BALANCE), content_type="application/json"
    )
    client = fast_client(httpserver.url_for("/"))
    client.get_balance(1)
    assert len(client._transport._sessions) == 1

    client.close()
    assert client._transport._sessions == []

    client.get_balance(1)
    client.close()


def test_logs_never_carry_the_identifier_or_query(httpserver, client, caplog):
    body = {"errors": [{"code": 8015, "message": "not found"}]}
    httpserver.expect_request("/v2/customers/lookup/points/balance").respond_with_json(
        body, status=503
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(MemberNotFound):
        client.get_balance(LOOKUP)

    ours = [r for r in caplog.records if r.name.startswith(("app.capillary", "urllib3"))]
    assert any(r.name == "app.capillary.transport" for r in ours)
    assert any(r.name.startswith("urllib3") for r in ours)
    for record in ours:
        text = record.getMessage()
        assert "secret.member" not in text
        assert "identifierValue" not in text
        assert PASSWORD not in text


def test_sessions_of_finished_threads_are_closed(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data(
        to_json(BALANCE), content_type="application/json"
    )
    made = []
    for _ in range(3):
        thread = threading.Thread(target=lambda: made.append(client.get_balance(1)))
        thread.start()
        thread.join()

    assert len(made) == 3
    # Each new thread's session swept the ended threads' ones.
    assert len(client._transport._sessions) == 1
