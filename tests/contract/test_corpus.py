"""Every documented example of the contract corpus (tests/contract/corpus/, one file per
example with its page), replayed over real HTTP (pytest-httpserver): through the client,
with what the docs say it means, and the key ones through the member page, with the figure
or the words an agent must see."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

from app.capillary import (
    AccessDenied,
    Balance,
    BasicAuth,
    CapillaryClient,
    CapillaryError,
    InvalidDate,
    InvalidProgram,
    MemberNotFound,
    OAuthAuth,
    PromisedSchedule,
    UpstreamApiError,
    UpstreamUnavailable,
)
from tests.conftest import normalize_spaces, soup
from tests.contract.corpus_support import CORPUS, Example, load, names
from tests.support.fake_upstream import MEMBER
from tests.support.lookup_helpers import decimal_text

CLUSTER = ZoneInfo("Asia/Kolkata")
RETRIES = 2
# The words "could not reach the loyalty system" in whatever form the desk puts them.
REACH = re.compile(r"\b(?:could not (?:be )?reach|unreachable|could not be reached)", re.I)
NOT_RECOGNISED = "does not recognise"

# --- the corpus itself ---------------------------------------------------------------------


def test_every_example_names_its_page_and_call() -> None:
    files = names()
    assert len(files) >= 50
    for name in files:
        example = load(name)
        assert example.source.startswith(("https://", "docs.capillarytech.com", "CAPDOCS", "capi"))
        assert example.contract.startswith("capillary-api.md")
        assert 200 <= example.status <= 599
        assert example.text


def test_every_example_is_replayed_below() -> None:
    covered = (
        set(BALANCES) | set(SCHEDULES) | set(FAILURES) | {"oauth-token", "programs-2022-sample"}
    )
    assert covered == set(names()), sorted(set(names()) ^ covered)


# --- the client, over HTTP -----------------------------------------------------------------


@pytest.fixture
def serve(httpserver: HTTPServer) -> Iterator[Callable[..., CapillaryClient]]:
    """serve(example, status=None) -> a client whose every call gets that answer."""
    clients: list[CapillaryClient] = []

    def make(example: Example, status: int | None = None) -> CapillaryClient:
        httpserver.expect_request(re.compile(".*")).respond_with_response(example.response(status))
        client = CapillaryClient(
            httpserver.url_for("/"),
            BasicAuth("till.contract", "Contract-Pa55"),
            cluster_timezone=CLUSTER,
            connect_timeout=5,
            read_timeout=10,
            deadline=20,
            retries=RETRIES,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def call(client: CapillaryClient, example: Example) -> Balance | PromisedSchedule:
    """Make the call the example answers."""
    if example.call == "schedule":
        return client.get_schedule(MEMBER)
    return client.get_balance(MEMBER)


D = Decimal
# Balance answers the client must read: name -> (main, promised, total, warning codes).
BALANCES: dict[str, tuple[Decimal, Decimal, Decimal, set[int]]] = {
    "balance-documented": (D("8500.000"), D("0"), D("8500"), set()),
    "balance-lookup-field-table-without-promised": (D("8500"), D("0"), D("8500"), set()),
    "balance-2022-with-program-id": (D("8500"), D("0"), D("8500"), set()),
    "balance-integer-points": (D("8500"), D("0"), D("8500"), set()),
    "balance-quoted-string-points": (D("8500"), D("0"), D("8500"), set()),
    "balance-warning-8107": (D("8500"), D("0"), D("8500"), {8107}),
    "balance-warning-code-in-errors-8069": (D("8500"), D("0"), D("8500"), {8069}),
}


@pytest.mark.parametrize("name", sorted(BALANCES))
def test_balance_examples_are_read(serve, name: str) -> None:
    example = load(name)
    main, promised, total, warnings = BALANCES[name]
    balance = call(serve(example), example)
    assert isinstance(balance, Balance)
    assert balance.entity_id == 565039505
    assert (balance.main_points, balance.promised_points, balance.total_points) == (
        main,
        promised,
        total,
    )
    for figure in (balance.main_points, balance.promised_points, balance.total_points):
        assert isinstance(figure, Decimal)
    assert {w.code for w in balance.warnings} == warnings


def test_the_2022_program_id_is_kept(serve) -> None:
    example = load("balance-2022-with-program-id")
    assert call(serve(example), example).program_id == 115


def test_the_documented_figures_keep_their_decimals(serve) -> None:
    example = load("balance-documented")
    assert "8500.000" in example.text
    assert str(call(serve(example), example).main_points) == "8500.000"


# Schedule answers: name -> (entries, sum of entries, trigger sum, program ids).
SCHEDULES: dict[str, tuple[int, Decimal, Decimal, set[int]]] = {
    "schedule-documented-one-program": (4, D("1040"), D("0"), {2199}),
    "schedule-documented-all-programs": (11, D("2020"), D("0"), {2199, 1933}),
    "schedule-documented-trigger": (0, D("0"), D("300"), set()),
    "schedule-iso-eu": (1, D("390"), D("0"), {2199}),
    "schedule-iso-india": (1, D("390"), D("0"), {2199}),
    "schedule-negative-points": (2, D("350"), D("0"), {2199}),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_examples_are_read(serve, name: str) -> None:
    example = load(name)
    count, total, triggers, programs = SCHEDULES[name]
    schedule = call(serve(example), example)
    assert isinstance(schedule, PromisedSchedule)
    assert len(schedule.entries) == count
    assert sum((e.points for e in schedule.entries), Decimal()) == total
    assert sum((t.points for t in schedule.triggers), Decimal()) == triggers
    assert {e.program_id for e in schedule.entries} == programs


def test_legacy_dates_are_midnight_in_the_cluster_zone(serve) -> None:
    example = load("schedule-documented-one-program")
    entries = call(serve(example), example).entries
    assert {e.redeemable_from for e in entries} == {datetime(2022, 4, 10, tzinfo=CLUSTER)}


@pytest.mark.parametrize(("name", "offset"), [("schedule-iso-eu", 0), ("schedule-iso-india", 330)])
def test_iso_dates_keep_the_servers_offset(serve, name: str, offset: int) -> None:
    example = load(name)
    (entry,) = call(serve(example), example).entries
    assert entry.redeemable_from.utcoffset() == timedelta(minutes=offset)
    assert entry.redeemable_from.astimezone(UTC) == datetime(
        2025, 12, 16, 14, 30, 45, tzinfo=UTC
    ) - timedelta(minutes=offset)


def test_negative_points_are_kept_negative(serve) -> None:
    example = load("schedule-negative-points")
    entries = call(serve(example), example).entries
    assert sorted(e.points for e in entries) == [Decimal("-40"), Decimal("390.000")]


# Failures: name -> (error class, upstream code, attempts made). A page from something in
# front of the API may be tried again or not (the docs say retry 520-524 only); a refusal
# or an answer the docs call "failed" is never repeated.
EITHER = 0
MEMBER_NOT_FOUND = {8015, 816, 1011, 1012, 8065}
FAILURES: dict[str, tuple[type[CapillaryError], int | None, int]] = {
    "balance-points-not-fetched-91001": (CapillaryError, 91001, 1),
    "balance-openapi-400-placeholder": (UpstreamApiError, None, 1),
    "error-8015-documented-body": (MemberNotFound, 8015, 1),
    "error-8015-dual-eligibility-non-primary": (MemberNotFound, 8015, 1),
    "error-all-requests-failed-500": (UpstreamUnavailable, 500, 1),
    "error-521": (UpstreamUnavailable, 521, 1 + RETRIES),
    "authz-4000-text": (AccessDenied, 4000, 1),
    "authz-4000-json-fields": (AccessDenied, 4000, 1),
    "authz-4001-text": (UpstreamUnavailable, 4001, 1 + RETRIES),
    "cdn-522-page": (UpstreamUnavailable, None, 1 + RETRIES),
    "cdn-524-page": (UpstreamUnavailable, None, 1 + RETRIES),
    "cdn-403-block-page": (UpstreamUnavailable, None, EITHER),
    "html-200-page": (UpstreamUnavailable, None, EITHER),
}
for _name in names(["error-"]):
    _code = load(_name).error_code()
    if _name not in FAILURES and _code is not None:
        if _code in MEMBER_NOT_FOUND:
            _cls: type[CapillaryError] = MemberNotFound
        elif _code in (885, 1213):
            _cls = InvalidProgram
        elif 1214 <= _code <= 1217:
            _cls = InvalidDate
        elif _code == 1044:
            _cls = AccessDenied
        else:
            _cls = UpstreamApiError
        FAILURES[_name] = (_cls, _code, 1)


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_failure_examples_raise_what_they_mean(serve, httpserver: HTTPServer, name: str) -> None:
    example = load(name)
    cls, code, attempts = FAILURES[name]
    with pytest.raises(CapillaryError) as raised:
        call(serve(example), example)
    error = raised.value
    assert isinstance(error, cls), (type(error).__name__, error.message)
    assert error.code == code
    assert error.status == example.status
    assert len(httpserver.log) in ((1, 1 + RETRIES) if attempts == EITHER else (attempts,))
    if name.startswith(("cdn-", "html-")):
        # Something in front of the API answered: never "not allowed", never a refusal.
        assert not isinstance(error, AccessDenied | UpstreamApiError)


@pytest.mark.parametrize("name", [n for n in sorted(FAILURES) if not load(n).status_documented])
def test_error_codes_mean_the_same_whatever_status_they_come_with(serve, name: str) -> None:
    # No page says which HTTP status goes with these codes (capillary-api.md 4.2).
    example = load(name)
    cls, code, _ = FAILURES[name]
    with pytest.raises(CapillaryError) as raised:
        call(serve(example, status=200), example)
    assert raised.value.code == code
    if cls in (MemberNotFound, InvalidProgram, InvalidDate, AccessDenied):
        assert isinstance(raised.value, cls)


def test_the_documented_token_is_sent_as_documented(httpserver: HTTPServer) -> None:
    token = load("oauth-token")
    balance = load("balance-documented")
    httpserver.expect_request("/v3/oauth/token/generate", method="POST").respond_with_response(
        token.response()
    )
    httpserver.expect_request(re.compile(".*/points/balance")).respond_with_response(
        balance.response()
    )
    with CapillaryClient(
        httpserver.url_for("/"), OAuthAuth("contract-key", "contract-secret"), retries=0
    ) as client:
        assert client.get_balance(MEMBER).main_points == Decimal("8500")
    sent = [request for request, _ in httpserver.log if request.path.endswith("/points/balance")]
    assert [r.headers.get("X-CAP-API-OAUTH-TOKEN") for r in sent] == ["<JWT>"]


def test_the_documented_program_list_is_read(serve) -> None:
    example = load("programs-2022-sample")
    client = serve(example)
    programs = client.get_programs()  # type: ignore[attr-defined]
    known = {p.program_id: p for p in programs}
    assert 622 in known
    assert known[622].name == "CLIENT_MERGEDefaultProgram"


# --- the member page, over HTTP ------------------------------------------------------------

ONE_PROGRAM = {"CAPILLARY_PROGRAMS": {2199: "Gold Club"}, "CAPILLARY_DEFAULT_PROGRAM": 2199}


def answers(fake, *, balance: Example | None = None, schedule: Example | None = None) -> None:
    """Let the fake answer the page's balance and/or schedule calls with these examples;
    the other calls get the fake's own good answers."""
    if balance is not None:
        for kind in ("balance:2199", "balance:default", "balance:all"):
            fake.handlers[kind] = lambda _request, e=balance: e.response()
    if schedule is not None:
        fake.handlers["schedule"] = lambda _request, e=schedule: e.response()


def everything(fake, example: Example) -> None:
    fake.handlers["*"] = lambda _request: example.response()


def page_of(client, member: int = MEMBER, **query: str):
    response = client.get(f"/members/{member}", query_string=query)
    assert response.status_code < 500 or response.status_code in (502, 503, 504)
    assert "Traceback" not in response.get_data(as_text=True)
    return response, soup(response)


def tile(page, key: str) -> str:
    """A balance tile's figure as the page carries it (empty when not known)."""
    return page.select_one(f"#tile-{key} .tile-value")["data-points"]


def codes_in(page, where: str) -> list[str]:
    selector = ", ".join(f"{part.strip()} .notice-code" for part in where.split(","))
    return [normalize_spaces(c.get_text()) for c in page.select(selector)]


def problems(page) -> str:
    """The text of every failure notice on the page (a partial page or the form back), with
    the message at the field a notice points to."""
    parts = page.select("#lookup-failure, #failures, #last-known, .field-errors")
    return normalize_spaces(" ".join(p.get_text(" ") for p in parts))


@pytest.mark.parametrize(
    "name",
    [
        "balance-documented",
        "balance-lookup-field-table-without-promised",
        "balance-integer-points",
        "balance-quoted-string-points",
    ],
)
def test_page_shows_the_documented_balance(agent, fake, name: str) -> None:
    answers(fake, balance=load(name))
    _, page = page_of(agent(**ONE_PROGRAM), 565039505)
    assert Decimal(tile(page, "available")) == Decimal("8500")
    assert Decimal(tile(page, "promised")) == Decimal("0")
    assert normalize_spaces(page.select_one("#answer-available dd").get_text()) == "8,500 points"
    assert page.select_one("#failures") is None
    assert page.select_one("#lookup-failure") is None


def test_page_never_reads_out_the_zeros_of_a_91001_balance(agent, fake) -> None:
    answers(fake, balance=load("balance-points-not-fetched-91001"))
    _, page = page_of(agent(**ONE_PROGRAM), 565039505)
    available = normalize_spaces(page.select_one("#answer-available dd").get_text())
    assert available == "not known"
    assert all(tile(page, key) == "" for key in ("available", "promised", "total"))
    assert "Code 91001" in codes_in(page, "#failures")
    assert not page.select("#warnings")  # a failed call, not a warning beside figures


@pytest.mark.parametrize(
    ("name", "code"),
    [("balance-warning-8107", 8107), ("balance-warning-code-in-errors-8069", 8069)],
)
def test_page_shows_a_warning_beside_the_figures(agent, fake, name: str, code: int) -> None:
    answers(fake, balance=load(name))
    _, page = page_of(agent(**ONE_PROGRAM), 565039505)
    assert Decimal(tile(page, "available")) == Decimal("8500")
    assert f"Code {code}" in codes_in(page, "#warnings")
    if code == 8069:  # a code of section 7.1: it has words of its own
        explanation = normalize_spaces(page.select_one("#warnings").get_text())
        assert "Points Desk does not know" not in explanation
    assert page.select_one("#failures") is None


def test_page_shows_the_documented_trigger_points(agent, fake) -> None:
    answers(fake, schedule=load("schedule-documented-trigger"))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert decimal_text(page.select_one("#triggers-total").get_text()) == Decimal("300")
    row = page.select_one('#triggers-table tr[data-program-id="890"]')
    assert row is not None


def test_page_names_the_access_group_for_a_refused_schedule(agent, fake) -> None:
    answers(fake, schedule=load("authz-4000-text"))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert tile(page, "available") != ""  # the balance still came
    assert "Code 4000" in codes_in(page, "#failures")
    assert "access group" in problems(page).lower()


@pytest.mark.parametrize("name", ["authz-4000-text", "authz-4000-json-fields"])
def test_page_names_the_access_group_when_every_call_is_refused(agent, fake, name: str) -> None:
    everything(fake, load(name))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert "Code 4000" in codes_in(page, "#lookup-failure")
    assert "access group" in problems(page).lower()


def test_page_says_authorisation_is_unavailable_for_4001(agent, fake) -> None:
    everything(fake, load("authz-4001-text"))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert "Code 4001" in codes_in(page, "#lookup-failure")
    assert NOT_RECOGNISED not in problems(page)


@pytest.mark.parametrize("name", ["cdn-522-page", "cdn-524-page", "cdn-403-block-page"])
def test_page_says_the_loyalty_system_could_not_be_reached(agent, fake, name: str) -> None:
    everything(fake, load(name))
    _, page = page_of(agent(**ONE_PROGRAM))
    words = problems(page)
    assert REACH.search(words), words
    assert NOT_RECOGNISED not in words
    assert "not allowed" not in words.lower() and "not authorised" not in words.lower()
    assert page.select("#lookup-failure .notice-code") == []


@pytest.mark.parametrize("name", ["html-200-page", "cdn-524-page"])
def test_page_keeps_the_other_figures_when_one_call_meets_the_cdn(agent, fake, name: str) -> None:
    example = load(name)
    if example.call == "balance":
        answers(fake, balance=example)
    else:
        answers(fake, schedule=example)
    _, page = page_of(agent(**ONE_PROGRAM))
    words = normalize_spaces(page.select_one("#failures").get_text(" "))
    assert REACH.search(words), words
    if example.call == "balance":
        assert tile(page, "available") == ""
        assert page.select_one("#timeline-total") is not None
    else:
        assert tile(page, "available") != ""


def test_page_explains_a_missing_account_id(agent, fake) -> None:
    everything(fake, load("error-8045"))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert "Code 8045" in codes_in(page, "#lookup-failure")
    assert "account" in problems(page).lower()


def test_page_says_no_member_for_the_documented_8015(agent, fake) -> None:
    everything(fake, load("error-8015-documented-body"))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert "Code 8015" in codes_in(page, "#lookup-failure")
    assert "no member" in problems(page).lower()


@pytest.mark.parametrize("name", ["error-1215", "error-1214", "error-1216", "error-1217"])
def test_page_says_which_date_was_refused(agent, fake, name: str) -> None:
    answers(fake, schedule=load(name))
    _, page = page_of(agent(**ONE_PROGRAM))
    code = name.removeprefix("error-")
    assert f"Code {code}" in codes_in(page, "#lookup-failure, #failures")
    words = normalize_spaces(" ".join(e.get_text(" ") for e in page.select(".field-errors")))
    assert "date" in words.lower()
    if code == "1215":
        # Which date, and the default range to fall back on (capillary-api.md 7.2).
        assert page.select_one("#start_date-error") is not None
        assert "default range" in words


@pytest.mark.parametrize(
    "name", [f"error-{c}" for c in (8001, 8002, 8003, 8016, 8091, 8092, 8093, 8127, 11013)]
)
def test_page_has_words_for_every_code_of_section_7(agent, fake, name: str) -> None:
    everything(fake, load(name))
    _, page = page_of(agent(**ONE_PROGRAM))
    assert f"Code {name.removeprefix('error-')}" in codes_in(page, "#lookup-failure")
    words = problems(page)
    # Words of the code's own: neither "not recognised" nor the bare HTTP 400 fallback.
    assert NOT_RECOGNISED not in words
    assert "rejected the request as invalid" not in words


def test_corpus_directory_is_next_to_this_file() -> None:
    assert CORPUS.is_dir() and CORPUS.name == "corpus"


@pytest.mark.parametrize(
    ("name", "past_due"),
    [
        ("schedule-documented-one-program", "1,040"),
        ("schedule-documented-all-programs", "2,020"),
        ("schedule-negative-points", "350"),
    ],
)
def test_page_lists_the_documented_2022_dates_as_past_due(
    agent, fake, name: str, past_due: str
) -> None:
    # The examples' dates (2022) are long past: pending, never "next".
    answers(fake, schedule=load(name))
    _, page = page_of(agent(**ONE_PROGRAM), 374844123)
    title = normalize_spaces(page.select_one("#past-due-title").get_text())
    assert title == f"Past due: {past_due} points"
    assert "answer-next--none" in page.select_one("#answer-next")["class"]


def test_page_says_a_member_may_exist_under_dual_eligibility(agent, fake) -> None:
    everything(fake, load("error-8015-dual-eligibility-non-primary"))
    client = agent(CAPILLARY_DUAL_ELIGIBILITY=True, **ONE_PROGRAM)
    response = client.post(
        "/lookup", data={"identifier_type": "email", "identifier": "tomswayer@capillarytech1.com"}
    )
    page = soup(response)
    assert "Code 8015" in codes_in(page, "#lookup-failure")
    assert re.search(r"dual eligibility|primary identifier", problems(page), re.I)
