"""A misbehaving upstream, seen from the page: the whole app (signed-in agent -> view ->
service -> client -> real HTTP) against a fake Capillary that fails in every way we know.

Every fault ends in a clear page within a bounded time: the member page with the figures that
arrived and a banner naming what is missing, or the form back with a plain-language reason.
The client-level details of each fault are tested in test_capillary_*.py; here it is the page.
"""

from __future__ import annotations

import gzip
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from werkzeug import Request, Response

from tests.conftest import normalize_spaces, soup
from tests.support.capillary_support import RawServer, closed_port, read_request
from tests.support.fake_upstream import (
    FIGURES,
    MEMBER,
    MOBILE,
    SHORT,
    Handler,
    balance_body,
    encode,
    json_response,
    respond,
    schedule_body,
)
from tests.support.lookup_helpers import decimal_text

HOSTILE = '<script>alert(1)</script>"><svg onload=alert(2)>{{7*7}}'
LEAKS = (
    "Traceback",
    "Error(",
    "Exception",
    "urllib3",
    "requests.exc",
    "MaxRetry",
    "HTTPConnection",
)
OUR_SCRIPTS = {"/static/js/copy.js", "/static/js/busy.js"}


def injected(page) -> list[str]:
    """Markup no template of ours produces: foreign scripts, on* handlers, embeds."""
    found = [str(tag)[:80] for tag in page.select("script") if tag.get("src") is None]
    found += [str(tag)[:80] for tag in page.select("script[src]") if tag["src"] not in OUR_SCRIPTS]
    found += [
        f"{tag.name}[{attr}]"
        for tag in page.find_all(True)
        for attr in tag.attrs
        if attr.lower().startswith("on")
    ]
    found += [str(tag)[:80] for tag in page.select("iframe, object, embed, base")]
    return found


def assert_clean_page(response: Response) -> None:
    text = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in text, leak
    assert injected(soup(response)) == []


def assert_failed_lookup(response: Response, status: int, says: str):
    """The form back, ready for another try, with a plain reason."""
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    page = soup(response)
    assert page.select_one("#identifier") is not None
    failure = normalize_spaces(page.select_one("#lookup-failure").get_text())
    assert says in failure
    assert_clean_page(response)
    return page


def member_page(client) -> Response:
    return client.get(f"/members/{MEMBER}")


def lookup(client) -> Response:
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "2199"}
    return client.post("/lookup", data=form)


def tile(page, key: str) -> Decimal:
    return decimal_text(page.select_one(f"#tile-{key} .tile-value").get_text())


def everything(handler: Handler) -> dict[str, Handler]:
    return {"*": handler}


# --- the transport fails: nothing arrives --------------------------------------------------


def test_connection_refused(agent):
    client = agent(base_url=f"http://127.0.0.1:{closed_port()}/")
    response = lookup(client)
    page = assert_failed_lookup(response, 502, "could not be reached")
    assert page.select_one("#identifier")["value"] == MOBILE


def test_connect_timeout(agent):
    # A listener whose accept queue is full and never drained: the kernel drops further SYNs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        client = agent(base_url=f"http://127.0.0.1:{port}/", **SHORT)
        response = member_page(client)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert_failed_lookup(response, 504, "took too long")


def test_read_timeout(agent, fake):
    def silent(_: Request) -> Response:
        fake.released.wait()  # never answers while the test runs
        return json_response({})

    fake.handlers.update(everything(silent))
    response = member_page(agent(**SHORT))
    assert_failed_lookup(response, 504, "took too long")


def test_slow_drip_is_cut_by_the_deadline(agent, fake):
    def drip(_: Request) -> Response:
        def body() -> Iterator[bytes]:
            # A byte every 50 ms until the test ends: no read times out, only the deadline.
            while not fake.released.wait(0.05):
                yield b" "

        return Response(body(), content_type="application/json")

    fake.handlers.update(everything(drip))
    # The page deadline is out of reach: only the 1.5 s call deadline can end the calls.
    response = member_page(agent(**{**SHORT, "LOOKUP_DEADLINE": 60}))
    assert_failed_lookup(response, 504, "took too long")


def reset_before_body(conn: socket.socket, _: threading.Event) -> None:
    read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def reset_during_body(conn: socket.socket, _: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{"entityId": 700000001, "en')
    time.sleep(0.05)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize(
    ("handler", "says"),
    [
        (reset_before_body, "could not be reached"),
        (reset_during_body, "cannot read"),
    ],
    ids=["before-body", "during-body"],
)
def test_connection_reset(agent, handler, says):
    with RawServer(handler) as raw:
        client = agent(base_url=raw.url)
        response = member_page(client)
    assert_failed_lookup(response, 502, says)


# --- the upstream answers with an error status --------------------------------------------


@pytest.mark.parametrize(
    ("status", "attempts", "says"),
    [
        (500, 1, "failed to answer"),
        (502, 3, "unreachable behind its gateway"),
        (503, 3, "temporarily unavailable"),
        (504, 3, "gateway timed out"),
    ],
)
def test_5xx_is_retried_where_it_helps_then_explained(agent, fake, status, attempts, says):
    fake.handlers.update(everything(respond("", status)))
    response = member_page(agent())
    page = assert_failed_lookup(response, 502, says)
    # No errors[] code in the answer: the page shows its HTTP status, and no upstream code.
    assert page.select_one("#lookup-failure .notice-code") is None
    assert page.select_one("#lookup-failure .notice-status").get_text() == f"HTTP {status}"
    assert fake.count("schedule") == attempts  # 500 is "failed": repeating it only adds load


def test_503_with_retry_after_an_hour_does_not_wait(agent, fake):
    fake.handlers.update(everything(respond("", 503, **{"Retry-After": "3600"})))
    response = member_page(agent())
    assert_failed_lookup(response, 502, "temporarily unavailable")


def test_429_with_retry_after_an_hour_says_busy_and_does_not_wait(agent, fake):
    body = {"errors": [{"code": 429, "message": "Too many requests"}]}
    fake.handlers.update(everything(respond(body, 429, **{"Retry-After": "3600"})))
    response = lookup(agent())
    page = assert_failed_lookup(response, 503, "too many requests")
    assert normalize_spaces(page.select_one("#lookup-failure .notice-title").get_text()) == (
        "The loyalty system is busy"
    )
    assert not page.select("#identifier-error"), "the typed identifier is not to blame"
    assert fake.count("schedule") == 1


def test_basic_401_is_explained_without_retrying(agent, fake):
    fake.handlers.update(everything(respond("", 401)))
    response = lookup(agent())
    assert_failed_lookup(response, 502, "credentials rejected")
    assert len(fake.seen) == 3  # one per call: a fresh Basic header could not help


def test_oauth_401_refreshes_the_token_once_then_explains(agent, fake):
    tokens = iter(range(100))

    def token(_: Request) -> Response:
        return json_response({"data": {"accessToken": f"tok-{next(tokens)}", "ttlSeconds": 3600}})

    fake.handlers.update({"token": token, "*": respond("", 401)})
    client = agent(
        CAPILLARY_AUTH="oauth", CAPILLARY_OAUTH_KEY="oauth-key", CAPILLARY_OAUTH_SECRET="oauth-s3c"
    )
    response = member_page(client)
    assert_failed_lookup(response, 502, "credentials rejected")
    gets = len(fake.seen) - fake.count("token")
    # Three calls: each tries once and retries at most once with a fresh token. No loop.
    assert 3 <= gets <= 6
    assert 2 <= fake.count("token") <= 4  # the first token, then one refresh per 401 at most


# --- the upstream answers 2xx with something that is not a balance ------------------------


@pytest.mark.parametrize(
    ("answer", "status", "says"),
    [
        pytest.param(
            respond({"errors": [{"code": 8015, "message": "No customer"}]}),
            404,
            "No member has this",
            id="200-errors-8015",
        ),
        pytest.param(
            respond({"errors": [{"code": 500, "message": "All requests have failed"}]}),
            502,
            "failed to answer",
            id="200-errors-whole-request",
        ),
        pytest.param(respond(""), 502, "cannot read", id="empty-body"),
        pytest.param(
            respond("<html><body><h1>502 Bad Gateway</h1></body></html>", 502),
            502,
            "could not reach the loyalty system",
            id="html-gateway-page-502",
        ),
        pytest.param(
            respond("<html><body>Service Temporarily Unavailable</body></html>"),
            502,
            "could not reach the loyalty system",
            id="html-page-as-200",
        ),
        pytest.param(
            respond('{"entityId": 700000001, "mainPoi'), 502, "cannot read", id="truncated-json"
        ),
        pytest.param(respond("[1, 2, 3]"), 502, "cannot read", id="json-array"),
        pytest.param(respond(b" " * (10 * 1024 * 1024)), 502, "cannot read", id="10MB-body"),
    ],
)
def test_unusable_answers_to_every_call(agent, fake, answer, status, says):
    fake.handlers.update(everything(answer))
    response = lookup(agent())
    assert_failed_lookup(response, status, says)


def test_gzip_bomb(agent, fake):
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)

    def handler(_: Request) -> Response:
        return Response(bomb, content_type="application/json", headers={"Content-Encoding": "gzip"})

    fake.handlers.update(everything(handler))
    response = member_page(agent(CAPILLARY_MAX_RESPONSE_BYTES=1024 * 1024))
    assert_failed_lookup(response, 502, "cannot read")


def test_redirect_to_another_host_is_not_followed_and_gets_no_credentials(agent, fake):
    visits = []

    def elsewhere(conn: socket.socket, _: threading.Event) -> None:
        visits.append(read_request(conn))

    with RawServer(elsewhere) as other:
        fake.handlers.update(everything(respond("", 302, Location=other.url + "steal")))
        response = member_page(agent())
    assert_failed_lookup(response, 502, "cannot read")
    assert visits == []


# --- partial data: some calls succeed -----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ['"12 00"', '"1,200"', "NaN", "1e308", "-Infinity"],
    ids=["string", "string with a comma", "NaN", "1e308", "-Infinity"],
)
def test_bad_numbers_in_one_program_leave_the_others_on_the_page(agent, fake, value):
    body = balance_body(1933) | {"mainPoints": "__MAIN__"}
    text = encode(body).replace('"__MAIN__"', value)
    fake.handlers["balance:1933"] = _with_id(respond(text), "req-bad-1933")
    response = member_page(agent())
    assert response.status_code == 200
    page = soup(response)
    assert tile(page, "available") == Decimal(FIGURES[2199]["main"])
    banner = normalize_spaces(page.select_one("#failures").get_text())
    assert "The balance for Partner Rewards (1933) is missing" in banner
    assert "cannot read" in banner
    assert "Request id req-bad-1933" in banner
    missing = page.select_one('#programs-table tr[data-program-id="1933"]')
    assert "row--missing" in missing["class"]
    assert_clean_page(response)


def _with_id(handler: Handler, request_id: str) -> Handler:
    def wrapped(request: Request) -> Response:
        response = handler(request)
        response.headers["X-Cap-Requestid"] = request_id
        return response

    return wrapped


@pytest.mark.parametrize(
    ("answer", "says", "code", "status"),
    [
        (
            respond({"errors": [{"code": 500, "message": "Failed"}]}, 500),
            "failed to answer",
            500,
            500,
        ),
        (respond("", 503), "temporarily unavailable", None, 503),
        (respond("<html>gateway</html>", 504), "could not reach the loyalty system", None, 504),
        (respond('{"entityId": 1, "promisedPoints'), "cannot read", None, 200),
    ],
    ids=["500-with-errors", "503", "504-html", "truncated"],
)
def test_a_failing_schedule_leaves_the_balances_and_a_banner(
    agent, fake, answer, says, code, status
):
    fake.handlers["schedule"] = _with_id(answer, "req-sched-1")
    response = member_page(agent())
    assert response.status_code == 200
    page = soup(response)
    assert tile(page, "available") == Decimal(FIGURES[2199]["main"])
    rows = page.select("#programs-table tbody tr")
    assert [row["data-program-id"] for row in rows] == ["2199", "1933"]
    banner = page.select_one("#failures")
    text = normalize_spaces(banner.get_text())
    assert "timeline is missing" in text
    assert says in text
    assert "Request id req-sched-1" in text
    if code is not None:
        assert f"Code {code}" in banner.select_one(".notice-code").get_text()
    else:
        assert banner.select_one(".notice-code") is None
    assert banner.select_one(".notice-status").get_text() == f"HTTP {status}"
    assert_clean_page(response)


def test_a_slow_schedule_is_left_out_at_the_page_deadline(agent, fake):
    def slow(_: Request) -> Response:
        fake.released.wait()  # the schedule never comes while the page is built
        return json_response(schedule_body())

    fake.handlers["schedule"] = slow
    response = member_page(
        # Only the page deadline can end this page before the test does.
        agent(CAPILLARY_READ_TIMEOUT=60, CAPILLARY_CALL_DEADLINE=60, LOOKUP_DEADLINE=0.6)
    )
    assert response.status_code == 200
    banner = normalize_spaces(soup(response).select_one("#failures").get_text())
    assert "timeline is missing" in banner
    assert "took too long" in banner


def test_the_scope_balance_failing_still_shows_the_other_program(agent, fake):
    fake.handlers["balance:2199"] = _with_id(respond("", 503), "req-2199")
    response = member_page(agent())
    assert response.status_code == 200
    page = soup(response)
    banner = normalize_spaces(page.select_one("#failures").get_text())
    assert "The balance for Gold Club (2199) is missing" in banner
    row = page.select_one('#programs-table tr[data-program-id="1933"]')
    assert decimal_text(row.select("td")[0].get_text()) == Decimal(FIGURES[1933]["main"])


# --- schedules of every size -------------------------------------------------------------


@pytest.mark.parametrize("entries", [0, 1, 5000])
def test_schedules_of_0_1_and_5000_entries(agent, fake, entries):
    fake.handlers["schedule"] = respond(schedule_body(entries))
    client = agent(CAPILLARY_MAX_RESPONSE_BYTES=4 * 1024 * 1024)
    response = member_page(client)
    assert response.status_code == 200
    page = soup(response)
    days = page.select("#timeline-table tbody.timeline-day")
    bars = page.select("#timeline-chart rect.bar")
    assert len(days) == entries
    assert len(bars) == entries
    if entries == 0:
        assert page.select_one("#timeline-empty") is not None
    else:
        assert decimal_text(page.select_one("#timeline-total").get_text()) == 2 * entries
        projected = page.select(".timeline-projected")[-1]
        available = Decimal(FIGURES[2199]["main"])
        assert decimal_text(projected.get_text()) == available + 2 * entries
    assert not page.select("#failures")


# --- hostile text in every field the upstream sends -------------------------------------


def test_hostile_strings_from_the_upstream_are_shown_as_text(agent, fake):
    warning = {"status": False, "code": 8107, "message": HOSTILE}
    balance = balance_body(2199) | {"warnings": [warning], "entityType": HOSTILE}
    fake.handlers["balance:2199"] = _with_id(respond(balance), HOSTILE.replace('"', "'"))
    schedule = schedule_body(3, pointsType=HOSTILE, expiryType=HOSTILE)
    schedule["triggerBasedPointsList"][0]["pointsType"] = HOSTILE
    schedule["warnings"] = [{"code": HOSTILE, "message": HOSTILE}]
    fake.handlers["schedule"] = respond(schedule)
    # A program id as a string, and an upstream error message, both hostile.
    fake.handlers["balance:1933"] = _with_id(
        respond({"errors": [{"code": 500, "message": HOSTILE}]}, 500), "req-1933"
    )
    response = member_page(agent())
    assert response.status_code == 200
    page = soup(response)
    assert injected(page) == []
    assert not page.select("svg[onload], svg svg")
    # Where the hostile strings are shown (not the whole page: its "as of" time can hold 49).
    shown = " ".join(
        normalize_spaces(element.get_text())
        for element in page.select("#warnings, #timeline-table, #triggers-table, #failures")
    )
    assert "{{7*7}}" in shown and not re.search(r"(?<![\w,.-])49(?![\w,.-])", shown)
    # The literal text is visible where the page shows it.
    warnings = [normalize_spaces(q.get_text()) for q in page.select("#warnings .notice-message q")]
    assert HOSTILE in warnings
    assert HOSTILE.capitalize() in normalize_spaces(page.select_one("#timeline-table").get_text())
    assert HOSTILE.capitalize() in normalize_spaces(page.select_one("#triggers-table").get_text())
    banner = normalize_spaces(page.select_one("#failures").get_text())
    assert HOSTILE in banner
    assert "Request id " + HOSTILE.replace('"', "'") in normalize_spaces(
        page.select_one("#warnings").get_text()
    )


def test_a_program_id_sent_as_a_hostile_string_is_refused_not_shown(agent, fake):
    schedule = schedule_body(1, programId=HOSTILE)
    fake.handlers["schedule"] = _with_id(respond(schedule), "req-sched-2")
    response = member_page(agent())
    assert response.status_code == 200
    page = soup(response)
    assert injected(page) == []
    banner = normalize_spaces(page.select_one("#failures").get_text())
    assert "timeline is missing" in banner
    assert "cannot read" in banner
    assert HOSTILE not in response.get_data(as_text=True)
