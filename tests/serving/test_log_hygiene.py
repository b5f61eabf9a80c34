"""Logs never carry a member's identifier, a password (or its md5), an Authorization value,
an OAuth key, secret or token: not in messages, not in exception text, at DEBUG everywhere.

Runs real lookups through the whole app against the fake upstream of
test_hardening_upstream.py: successes, not found, partial pages, the upstream down, a reset,
a timeout, OAuth with a token fetch and a 401 refresh, Basic mode, and an unhandled crash
whose exception message holds a full request URL.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug import Request, Response

from app.capillary import CapillaryClient
from tests.support.capillary_support import RawServer, closed_port, read_request
from tests.support.fake_upstream import SHORT, json_response, respond

USERNAME = "till.hardening"
PASSWORD = "Up-Str3am-Pa55"
PASSWORD_MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
BASIC = base64.b64encode(f"{USERNAME}:{PASSWORD_MD5}".encode()).decode()
OAUTH_KEY = "oauth-key-HYG-5521"
OAUTH_SECRET = "oauth-secret-HYG-9034"
TOKEN_PREFIX = "tok-HYG-"

MOBILE = "919812345678"
OTHER_MOBILE = "919812340000"
EMAIL = "ann.hygiene+points@example.com"
EXTERNAL = "EXT-HYG-7731"
CARD = "CARD-HYG-4242"
CUSTOMER_ID = "700000001"
SECOND = "EXT-HYG-SECOND-55"

NEVER = {
    "mobile": MOBILE,
    "other mobile": OTHER_MOBILE,
    "email": EMAIL,
    "email, URL-encoded": "ann.hygiene%2Bpoints%40example.com",
    "external id": EXTERNAL,
    "card": CARD,
    "second identifier": SECOND,
    "customer id": CUSTOMER_ID,
    "password": PASSWORD,
    "password md5": PASSWORD_MD5,
    "Basic value": BASIC,
    "OAuth key": OAUTH_KEY,
    "OAuth secret": OAUTH_SECRET,
    "OAuth token": TOKEN_PREFIX,
    "identifierValue": "identifierValue",
}
# The fake upstream is a werkzeug server in this same process: its request lines name the
# identifiers (as any upstream's access log would). They are the upstream's logs, not ours.
UPSTREAM_THREADS = ("process_request_thread", "serve_forever")


class Everything(logging.Handler):
    """Every record from every logger, formatted with its traceback, as a log file gets it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(threadName)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if any(part in record.threadName for part in UPSTREAM_THREADS):
            return
        self.lines.append(self.format(record))


@pytest.fixture
def captured(caplog) -> Iterator[Everything]:
    names = ("", "app", "urllib3", "requests", "werkzeug", "flask", "sqlalchemy")
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)
    handler = Everything()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    # caplog's own view: record messages and exception text (its formatter adds tracebacks).
    text = "\n".join(handler.lines)
    theirs = "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if not any(part in record.threadName for part in UPSTREAM_THREADS)
    )
    leaks = {name: value for name, value in NEVER.items() if value in text or value in theirs}
    assert leaks == {}, "\n".join(
        line for line in handler.lines if any(v in line for v in leaks.values())
    )


def lookup(client, identifier_type: str, identifier: str, **extra: str):
    form = {"identifier_type": identifier_type, "identifier": identifier, "program": "2199"}
    return client.post("/lookup", data={**form, **extra})


def echoing_not_found(request: Request) -> Response:
    """8015, with the upstream echoing the identifier back in its message."""
    value = request.args.get("identifierValue", "?")
    body = {"errors": [{"code": 8015, "message": f"Customer not found for {value}"}]}
    return json_response(body, status=400, request_id="req-nf")


def test_basic_mode_lookups_of_every_kind(agent, fake, captured):
    client = agent()
    assert lookup(client, "mobile", MOBILE).status_code == 302
    assert lookup(client, "customer_id", CUSTOMER_ID).status_code == 302
    assert client.get(f"/members/{CUSTOMER_ID}").status_code == 200
    assert (
        lookup(
            client, "email", EMAIL, second_identifier_type="externalId", second_identifier=SECOND
        ).status_code
        == 302
    )
    # Not found, with the identifier echoed in the upstream's message.
    fake.handlers["*"] = echoing_not_found
    assert lookup(client, "externalId", EXTERNAL).status_code == 404
    # Partial: the schedule fails, its message naming the identifier again.
    del fake.handlers["*"]
    fake.handlers["schedule"] = echoing_server_error
    assert lookup(client, "cardnumber", CARD).status_code == 302
    # Retried 503s (urllib3 logs each retry with its URL); the mobile was found above, so
    # the page shows its last-known figures, found through the identifier map.
    fake.handlers["*"] = respond("", 503)
    assert lookup(client, "mobile", MOBILE).status_code == 302
    # A mobile never found: the failure page.
    assert lookup(client, "mobile", OTHER_MOBILE).status_code == 502
    assert any("urllib3" in line for line in captured.lines), "urllib3 was heard at DEBUG"


def echoing_server_error(request: Request) -> Response:
    value = request.args.get("identifierValue", "?")
    body = {"errors": [{"code": 500, "message": f"Failed for {value}"}]}
    return json_response(body, status=500, request_id="req-500")


def reset_mid_body(conn: socket.socket, _: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{"entityId": 1')
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def silent(conn: socket.socket, stopped: threading.Event) -> None:
    read_request(conn)
    stopped.wait()  # never answers while the test runs


@pytest.mark.parametrize(("down", "status"), [("refused", 502), ("reset", 502), ("timeout", 504)])
def test_upstream_down(agent, captured, down, status):
    if down == "refused":
        client = agent(base_url=f"http://127.0.0.1:{closed_port()}/")
        assert lookup(client, "email", EMAIL).status_code == status
        return
    with RawServer(reset_mid_body if down == "reset" else silent) as raw:
        # Silence: the short test limits end every call, and nothing answers in a race.
        client = agent(base_url=raw.url, **({} if down == "reset" else SHORT))
        assert lookup(client, "mobile", MOBILE).status_code == status
        assert client.get(f"/members/{CUSTOMER_ID}").status_code == status


def test_oauth_token_fetch_and_a_401_refresh(agent, fake, captured):
    issued: list[str] = []
    lock = threading.Lock()

    def token(_: Request) -> Response:
        with lock:
            issued.append(f"{TOKEN_PREFIX}{len(issued)}")
            value = issued[-1]
        return json_response({"data": {"accessToken": value, "ttlSeconds": 3600}, "errors": None})

    def first_token_rejected(request: Request) -> Response:
        if request.headers.get("X-CAP-API-OAUTH-TOKEN") == f"{TOKEN_PREFIX}0":
            return Response("", status=401)
        return fake_default(request)

    fake_default = fake.__class__()  # a second fake: good answers for the same calls
    fake.handlers.update({"token": token, "*": first_token_rejected})
    client = agent(
        CAPILLARY_AUTH="oauth",
        CAPILLARY_OAUTH_KEY=OAUTH_KEY,
        CAPILLARY_OAUTH_SECRET=OAUTH_SECRET,
    )
    assert lookup(client, "mobile", MOBILE).status_code == 302
    assert len(issued) == 2  # the first token, then one refresh after the 401
    # A token service that refuses, echoing what it was sent.
    fake.handlers["token"] = lambda request: json_response(
        {"errors": [{"code": 401, "message": f"bad key {OAUTH_KEY} {OAUTH_SECRET}"}]}, status=401
    )
    fake.handlers["*"] = respond("", 401)
    assert lookup(client, "email", EMAIL).status_code == 502


def test_an_unhandled_crash_logs_where_but_not_the_url_in_its_message(agent, captured, monkeypatch):
    url = f"http://upstream/v2/customers/lookup/points/balance?identifierValue={MOBILE}"

    def crash(self, *args, **kwargs):
        # What requests raises outside the mapped paths: its message holds the whole URL.
        raise requests.exceptions.InvalidURL(f"Failed to parse: {url}; auth Basic {BASIC}")

    monkeypatch.setattr(CapillaryClient, "get_balance", crash)
    client = agent(PROPAGATE_EXCEPTIONS=False)
    response = lookup(client, "mobile", MOBILE)
    assert response.status_code == 500
    crash_lines = [line for line in captured.lines if "Unhandled InvalidURL" in line]
    assert crash_lines, "the crash is logged"
    assert "test_log_hygiene.py" in crash_lines[0]  # with the frames that lead to it
    assert "message withheld" in crash_lines[0]
