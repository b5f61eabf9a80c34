"""Last-known figures in an outage: the whole app against a fake Capillary that stops
answering, with the frozen clock aging what was fetched before.

A member fetched within LOOKUP_STALE_MAX_SECONDS is shown with the figures of the last
answer, under a banner saying from when and why, and the audit record says so; an answer
about the member ("not found") is never replaced; a fresh answer replaces the last-known one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime as babel_format_datetime
from sqlalchemy import select

from app import create_app
from app.audit import chain, identifier_hash
from app.audit.models import AuditRecord
from app.capillary import (
    AccessDenied,
    Identifier,
    InvalidDate,
    InvalidProgram,
    MalformedResponse,
    MemberLookup,
    MemberNotFound,
    UpstreamApiError,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.config_rules import ConfigError
from app.extensions import db
from app.lookup.fetching import codec
from app.lookup.fetching.cache import MemoryCache
from app.lookup.fetching.last_known import (
    LAST_PREFIX,
    WHO_PREFIX,
    exact_hash,
    is_outage,
    who_key,
)
from app.lookup.fetching.outcome import MemberData, Outcome
from tests.conftest import ADMIN, normalize_spaces, sandbox_config, sign_in, soup
from tests.support.cache_samples import BALANCE
from tests.support.fake_upstream import (
    FIGURES,
    MEMBER,
    MOBILE,
    FakeCapillary,
    balance_body,
    json_response,
    respond,
    schedule_body,
)
from tests.support.lookup_helpers import decimal_text
from tests.support.metrics_samples import parse, value
from tests.support.redis_fixtures import REDIS_URL

IST = ZoneInfo("Asia/Kolkata")
EMAIL = "Priya.Member@Example.com"
# The whole-request failure of capillary-api.md: a 200 whose errors[] carries a 5xx code.
WHOLE_REQUEST_FAILED = {"errors": [{"code": 500, "message": "All requests have failed"}]}
NOT_FOUND = {"errors": [{"code": 8015, "message": "Customer not found"}]}
PAGE = f"/members/{MEMBER}"


def lookup(client, identifier_type: str = "mobile", identifier: str = MOBILE):
    form = {"identifier_type": identifier_type, "identifier": identifier, "program": "2199"}
    return client.post("/lookup", data=form)


def refresh(client):
    """The member page's Refresh button (past the cache), then the page it redirects to."""
    response = client.post(f"{PAGE}/refresh")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client.get(response.location)


def stale_pages_counted(client) -> float:
    """The metrics' count of pages shown with last-known figures (process-wide)."""
    scraped = client.application.test_client().get(
        "/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    return value(parse(scraped.get_data(as_text=True)), "pointsdesk_stale_pages_total")


def fail_everything(fake, answer=None) -> None:
    handler = answer or respond("", 500)
    for kind in ("balance:2199", "balance:1933", "schedule"):
        fake.handlers[kind] = handler


def records(client) -> list[tuple[str, str, int | None]]:
    with client.application.app_context():
        rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        return [(r.identifier_type, r.outcome, r.member_id) for r in rows]


def tile(page, key: str) -> Decimal:
    return decimal_text(page.select_one(f"#tile-{key} .tile-value").get_text())


def banner(page) -> str:
    return normalize_spaces(page.select_one("#last-known").get_text())


def at_ist(moment: datetime, now: datetime) -> str:
    """'16:12 (IST, UTC+05:30)': the time the banner names, in the desk's zone; with the date
    in front ('31 Dec 2026, 23:58 (IST, UTC+05:30)') when that was another day in IST than
    `now` (the frozen clock may have crossed midnight in IST while the test aged the figures).
    """
    local = moment.astimezone(IST)
    same_day = local.date() == now.astimezone(IST).date()
    pattern = "HH:mm" if same_day else "d MMM y, HH:mm"
    shown = babel_format_datetime(local, pattern, locale="en_US")
    return f"{shown} (IST, UTC+05:30)"


def cache_keys(client) -> list[str]:
    cache = client.application.extensions["lookup"].cache
    assert isinstance(cache, MemoryCache)
    return list(cache._entries)


@pytest.fixture
def desk(agent):
    """An agent of an app whose display zone is IST (the banner's time is read in it), whose
    session outlasts the hours the tests move the clock by."""

    def make(**overrides):
        return agent(
            DISPLAY_TIMEZONE="Asia/Kolkata",
            SESSION_IDLE_MINUTES=3 * 24 * 60,
            SESSION_MAX_HOURS=72,
            **overrides,
        )

    return make


# --- one call out: that part last known, the rest fresh -----------------------------------


def test_the_balance_alone_failing_shows_its_last_known_figures_with_the_fresh_timeline(
    desk, fake, clock
):
    client = desk()
    assert client.get(PAGE).status_code == 200
    fetched = clock.now()
    clock.advance(timedelta(minutes=38))
    fake.handlers["balance:2199"] = respond("", 500, **{"X-Cap-Requestid": "req-down"})
    fake.handlers["schedule"] = respond(schedule_body(entries=3))

    page = soup(refresh(client))

    assert banner(page).startswith(
        f"Last known, from {at_ist(fetched, clock.now())}, 38 minutes ago: "
        "the loyalty system did not answer now."
    )
    parts = normalize_spaces(page.select_one("#last-known-parts").get_text())
    assert parts.startswith("Only the balance is last known; the rest of the page is fresh.")
    # The failure of the call just made, in words and with the upstream's status and id.
    assert page.select_one("#last-known .notice-status").get_text() == "HTTP 500"
    assert page.select_one("#last-known .notice-request-id").get_text() == "Request id req-down"
    assert page.select_one("#last-known")["role"] == "status"
    # The balance as it was; the timeline as it is now (three dates, not the first two).
    assert tile(page, "available") == Decimal(FIGURES[2199]["main"])
    assert len(page.select("#timeline-table tbody.timeline-day")) == 3
    assert page.select_one("#failures") is None
    # Said in the answer block and the ticket summary too, never only at the top.
    answer = normalize_spaces(page.select_one("#answer-last-known").get_text())
    assert answer.startswith(f"Last known, from {at_ist(fetched, clock.now())}")
    assert "Only the balance is last known" in answer
    summary = page.select_one("#ticket-summary").get_text().splitlines()
    assert any(line.startswith("Last known, from ") for line in summary)
    # The old-figures notice is not said twice.
    assert page.select_one("#stale") is None
    assert records(client)[-1] == ("customer_id", "found_stale", MEMBER)


@pytest.mark.parametrize(
    ("fetched_at", "shown"),
    [
        # 23:50 IST, seen 38 minutes later (00:28 the next day): the date is named.
        ((23, 50), "{date}, 23:50 (IST, UTC+05:30), 38 minutes ago"),
        # 10:05 IST, seen at 10:43 the same day: the time alone.
        ((10, 5), "10:05 (IST, UTC+05:30), 38 minutes ago"),
    ],
)
def test_the_banner_names_the_date_once_midnight_in_ist_has_passed(
    desk, fake, clock, fetched_at, shown
):
    day = clock.now().astimezone(IST).date()
    fetched = datetime(day.year, day.month, day.day, *fetched_at, tzinfo=IST)
    clock.set(fetched)
    client = desk()
    assert client.get(PAGE).status_code == 200
    clock.advance(timedelta(minutes=38))
    fail_everything(fake)
    page = soup(refresh(client))
    date_shown = babel_format_datetime(fetched, "d MMM y", locale="en_US")
    assert banner(page).startswith(f"Last known, from {shown.format(date=date_shown)}:")


def test_another_programs_balance_is_named_when_it_is_the_last_known_part(desk, fake, clock):
    client = desk()
    client.get(PAGE)
    clock.advance(timedelta(hours=3))
    fake.handlers["balance:1933"] = respond(WHOLE_REQUEST_FAILED)
    page = soup(refresh(client))
    parts = normalize_spaces(page.select_one("#last-known-parts").get_text())
    assert parts.startswith(
        "Only the balance for Partner Rewards (1933) is last known; the rest of the page is fresh."
    )
    assert "3 hours ago" in banner(page)
    assert page.select_one("#last-known .notice-code").get_text() == "Code 500"
    row = page.select_one('#programs-table tr[data-program-id="1933"]')
    assert decimal_text(row.select("td")[0].get_text()) == Decimal(FIGURES[1933]["main"])


# --- every call out, found by mobile: the identifier map names the member ------------------


def test_every_call_failing_for_a_lookup_by_mobile_shows_the_last_known_page(desk, fake, clock):
    client = desk()
    first = lookup(client)
    assert first.status_code == 302
    assert client.get(first.location).status_code == 200
    fetched = clock.now()
    clock.advance(timedelta(hours=2))
    fail_everything(fake)
    calls_before = len(fake.seen)
    counted_before = stale_pages_counted(client)

    response = lookup(client)

    assert response.status_code == 302
    assert response.location.startswith(PAGE)
    shown = client.get(response.location)
    assert shown.status_code == 200
    assert stale_pages_counted(client) == counted_before + 1
    # The page the lookup redirects to reads the errors just cached: no second round.
    assert shown.headers["X-Upstream-Calls"] == "0"
    assert len(fake.seen) == calls_before + 3
    page = soup(shown)
    assert banner(page).startswith(
        f"Last known, from {at_ist(fetched, clock.now())}, 2 hours ago: "
        "the loyalty system did not answer now."
    )
    assert normalize_spaces(page.select_one("#last-known-parts").get_text()).startswith(
        "Every figure on this page is last known."
    )
    assert tile(page, "available") == Decimal(FIGURES[2199]["main"])
    assert page.select_one("#member-id").get_text() == str(MEMBER)
    # One record for the lookup, found with last-known figures; the redirect adds none.
    assert records(client) == [("mobile", "found", MEMBER), ("mobile", "found_stale", MEMBER)]


def test_a_lookup_by_email_finds_its_member_through_the_map_too(desk, fake, clock):
    client = desk()
    assert lookup(client, "email", EMAIL).status_code == 302
    clock.advance(timedelta(minutes=5))
    fail_everything(fake, respond("", 500))
    response = lookup(client, "email", EMAIL)
    assert response.status_code == 302
    assert "5 minutes ago" in banner(soup(client.get(response.location)))
    # Another spelling is another value upstream: the map does not guess it is the same.
    response = lookup(client, "email", EMAIL.lower())
    assert response.status_code == 502
    assert soup(response).select_one("#last-known") is None


def _member_by_exact_external_id(members: dict[str, tuple[int, str]]):
    """Handlers answering with the member whose external id is exactly the one asked for."""

    def handler(request):
        kind = FakeCapillary.kind(request)
        found = members.get(request.args.get("identifierValue", ""))
        if found is None:
            return json_response(NOT_FOUND)
        member_id, main = found
        if kind == "schedule":
            body = schedule_body()
        else:
            body = balance_body(int(kind.split(":")[1]))
            body["mainPoints"] = main
            body["totalPoints"] = str(Decimal(main) + Decimal(body["promisedPoints"]))
        body["entityId"] = member_id
        return json_response(body)

    return handler


def test_external_ids_differing_only_in_case_keep_their_own_figures_in_an_outage(desk, fake, clock):
    # Capillary matches external ids exactly: these are two members.
    members = {"ext-doc-1": (565039501, "11"), "EXT-DOC-1": (565039502, "22")}
    handler = _member_by_exact_external_id(members)
    for kind in ("balance:2199", "balance:1933", "schedule"):
        fake.handlers[kind] = handler
    client = desk()
    for external_id, (member_id, main) in members.items():
        page = soup(client.get(lookup(client, "externalId", external_id).location))
        assert page.select_one("#member-id").get_text() == str(member_id)
        assert tile(page, "available") == Decimal(main)
    clock.advance(timedelta(minutes=10))
    fail_everything(fake)

    for external_id, (member_id, main) in members.items():
        response = lookup(client, "externalId", external_id)
        assert response.status_code == 302
        page = soup(client.get(response.location))
        assert page.select_one("#member-id").get_text() == str(member_id), external_id
        assert tile(page, "available") == Decimal(main), external_id
        assert "10 minutes ago" in banner(page)
    shown = [r for r in records(client) if r[1] == "found_stale"]
    assert shown == [
        ("externalId", "found_stale", 565039501),
        ("externalId", "found_stale", 565039502),
    ]


def test_a_mobile_never_seen_gets_the_failure_page(desk, fake, clock):
    client = desk()
    lookup(client)
    fail_everything(fake, respond(WHOLE_REQUEST_FAILED))
    response = lookup(client, identifier="919811111111")
    assert response.status_code == 502
    page = soup(response)
    assert page.select_one("#last-known") is None
    assert page.select_one("#lookup-failure .notice-code").get_text() == "Code 500"


# --- the limits: too old, "not found", switched off -----------------------------------------


def test_figures_older_than_the_maximum_are_not_shown(desk, fake, clock):
    client = desk(LOOKUP_STALE_MAX_SECONDS=3600)
    lookup(client)
    clock.advance(timedelta(seconds=3601))
    fail_everything(fake, respond(WHOLE_REQUEST_FAILED))

    response = lookup(client)

    assert response.status_code == 502
    page = soup(response)
    assert page.select_one("#last-known") is None
    assert page.select_one("#lookup-failure .notice-code").get_text() == "Code 500"
    assert records(client)[-1] == ("mobile", "upstream_error", None)
    by_id = refresh(client)
    assert by_id.status_code == 502
    assert soup(by_id).select_one("#last-known") is None


def test_figures_just_inside_the_maximum_are_shown(desk, fake, clock):
    client = desk(LOOKUP_STALE_MAX_SECONDS=3600)
    lookup(client)
    clock.advance(timedelta(seconds=3600))
    fail_everything(fake)
    response = lookup(client)
    assert response.status_code == 302
    assert "1 hour ago" in banner(soup(client.get(response.location)))


@pytest.mark.parametrize("status", [200, 404])
def test_not_found_is_the_answer_and_never_replaced(desk, fake, clock, status):
    client = desk()
    lookup(client)
    clock.advance(timedelta(minutes=10))
    fail_everything(fake, respond(NOT_FOUND, status))

    response = lookup(client)

    assert response.status_code == 404
    page = soup(response)
    assert page.select_one("#last-known") is None
    assert "No member has this" in normalize_spaces(page.select_one("#lookup-failure").get_text())
    assert records(client)[-1] == ("mobile", "not_found", None)
    by_id = refresh(client)
    assert by_id.status_code == 404
    assert soup(by_id).select_one("#last-known") is None


def test_zero_turns_last_known_figures_off(desk, fake, clock):
    client = desk(LOOKUP_STALE_MAX_SECONDS=0)
    lookup(client)
    assert not [k for k in cache_keys(client) if k.startswith((LAST_PREFIX, WHO_PREFIX))]
    clock.advance(timedelta(minutes=1))
    fake.handlers["balance:2199"] = respond("", 500)
    page = soup(refresh(client))
    assert page.select_one("#last-known") is None
    failures = normalize_spaces(page.select_one("#failures").get_text())
    assert "The balance for Gold Club (2199) is missing" in failures
    fail_everything(fake)
    assert lookup(client).status_code == 502


# --- a fresh answer replaces the last-known one ---------------------------------------------


def test_after_the_outage_the_next_lookup_is_fresh_and_says_nothing_of_last_known(
    desk, fake, clock
):
    client = desk()
    lookup(client)
    clock.advance(timedelta(minutes=20))
    fail_everything(fake)
    assert "20 minutes ago" in banner(soup(client.get(lookup(client).location)))

    # The upstream is back, with new figures.
    fake.handlers.clear()
    new_balance = balance_body(2199)
    new_balance["mainPoints"] = "7777"
    fake.handlers["balance:2199"] = respond(new_balance)
    clock.advance(timedelta(minutes=1))
    page = soup(client.get(lookup(client).location))
    assert page.select_one("#last-known") is None
    assert page.select_one("#answer-last-known") is None
    assert "Last known" not in page.select_one("#ticket-summary").get_text()
    assert tile(page, "available") == Decimal("7777")
    assert records(client)[-1] == ("mobile", "found", MEMBER)

    # Down again: the last-known figures are the new ones, from the new time.
    fetched = clock.now()
    clock.advance(timedelta(minutes=4))
    fail_everything(fake)
    page = soup(refresh(client))
    assert banner(page).startswith(
        f"Last known, from {at_ist(fetched, clock.now())}, 4 minutes ago"
    )
    assert tile(page, "available") == Decimal("7777")


def test_last_known_figures_are_never_cached_as_fresh(desk, fake, clock):
    client = desk()
    lookup(client)
    clock.advance(timedelta(minutes=7))
    fake.handlers["balance:2199"] = respond("", 500)
    refresh(client)
    cache = client.application.extensions["lookup"].cache
    fresh = {key: value for key, value in cache._entries.items() if key.startswith("balance:")}
    assert fresh, "the page's outcomes are cached"
    for _, outcome in fresh.values():
        assert not outcome.stale
    errors = [outcome for _, outcome in fresh.values() if outcome.error is not None]
    assert errors, "the failed call is cached as the failure it was (for the short error TTL)"


# --- what the cache holds: member ids and hashes, never an identifier -----------------------


def test_no_cache_key_carries_the_identifier(desk, fake, clock):
    client = desk()
    lookup(client)
    lookup(client, "email", EMAIL)
    keys = cache_keys(client)
    assert any(key.startswith(WHO_PREFIX) for key in keys)
    assert any(key.startswith(LAST_PREFIX) for key in keys)
    for key in keys:
        for part in (MOBILE, MOBILE[2:], "9800000001", "priya", "example", "@"):
            assert part not in key.lower(), key
    with client.application.app_context():
        assert f"{WHO_PREFIX}INSTORE::mobile:{exact_hash('mobile', MOBILE)}" in keys


# --- the audit pages -------------------------------------------------------------------------


def test_the_audit_pages_say_found_with_last_known_figures(desk, fake, clock):
    client = desk()
    lookup(client)
    clock.advance(timedelta(minutes=9))
    fail_everything(fake)
    lookup(client)
    admin = sign_in(client.application.test_client(), ADMIN)

    page = soup(admin.get("/admin/audit", query_string={"outcome": "found_stale"}))
    cells = [normalize_spaces(td.get_text()) for td in page.select(".audit-row .audit-outcome")]
    assert cells == ["found, last-known figures"]
    choice = page.select_one('#outcome option[value="found_stale"]')
    assert normalize_spaces(choice.get_text()) == "found, last-known figures"
    report = soup(admin.get("/admin/audit/member", query_string={"member_id": MEMBER}))
    outcomes = [normalize_spaces(td.get_text()) for td in report.select(".report-outcome")]
    assert outcomes == ["found", "found, last-known figures"]
    export = admin.get("/admin/audit.csv", query_string={"outcome": "found_stale"})
    rows = export.get_data(as_text=True).splitlines()
    assert len(rows) == 2 and ",found_stale," in rows[1]
    with client.application.app_context():
        assert chain.verify().intact
    # The member was shown: they are in the agent's recent lookups.
    recent = soup(client.get("/")).select("#recent .recent-list a")
    assert [a.get_text() for a in recent] == [f"Member {MEMBER}"]


# --- the shared cache: the same in Redis ------------------------------------------------------


@pytest.mark.redis
def test_last_known_figures_through_redis(desk, fake, clock, redis_server, redis_prefix):
    client = desk(CACHE_REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=redis_prefix)
    assert client.get(lookup(client).location).status_code == 200
    clock.advance(timedelta(minutes=45))
    fail_everything(fake)

    page = soup(client.get(lookup(client).location))

    assert "45 minutes ago" in banner(page)
    assert tile(page, "available") == Decimal(FIGURES[2199]["main"])
    keys = [key.decode() for key in redis_server.scan_iter(match=redis_prefix + "*", count=500)]
    names = [key.removeprefix(redis_prefix) for key in keys]
    assert any(name.startswith(WHO_PREFIX) for name in names)
    assert any(name.startswith(LAST_PREFIX) for name in names)
    for key in keys:
        assert MOBILE not in key and "9800000001" not in key
    (who,) = [key for key in keys if key.removeprefix(redis_prefix).startswith(WHO_PREFIX)]
    assert json.loads(redis_server.get(who)) == {"v": 1, "member_id": MEMBER}
    assert 0 < redis_server.pttl(who) <= 86_400_000
    assert records(client)[-1] == ("mobile", "found_stale", MEMBER)


# --- the parts, on their own -----------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable("down", status=503),
        UpstreamTimeout("page deadline passed"),
        UpstreamMisconfigured("wrong address", status=404),
        MalformedResponse("not JSON"),
        UpstreamApiError("busy", code=429, status=429),
        UpstreamApiError("All requests have failed", code=500, status=200),
    ],
    ids=lambda e: f"{type(e).__name__}-{e.code}-{e.status}",
)
def test_outages_are_served_last_known(error):
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        MemberNotFound("no one", code=8015, status=200),
        InvalidProgram("unknown program", code=885, status=400),
        InvalidDate("bad date", code=1214, status=400),
        AccessDenied("not allowed", code=4000, status=403),
        UpstreamApiError("refused", code=1111, status=400),
        None,
    ],
    ids=lambda e: f"{type(e).__name__}-{getattr(e, 'code', None)}",
)
def test_answers_are_not_outages(error):
    assert not is_outage(error)


def test_the_codec_keeps_member_ids_and_refuses_last_known_outcomes():
    fetched = datetime(2026, 11, 21, 10, 15, tzinfo=UTC)
    assert codec.decode_entry(codec.encode_entry(MEMBER)) == MEMBER
    outcome = codec.decode_entry(codec.encode_entry(Outcome(BALANCE, None, fetched)))
    assert isinstance(outcome, Outcome) and outcome.value == BALANCE
    stale = Outcome(BALANCE, None, fetched, stale_because=UpstreamTimeout("slow"))
    with pytest.raises(ValueError, match="never cached"):
        codec.encode_entry(stale)
    for damaged in (
        b'{"v":1,"member_id":-3}',
        b'{"v":1,"member_id":"7"}',
        b'{"v":1,"member_id":true}',
    ):
        with pytest.raises(codec.CodecError):
            codec.decode_entry(damaged)
    with pytest.raises(codec.CodecError):
        codec.decode_outcome(codec.encode_entry(MEMBER))


def test_member_data_says_since_when_it_is_stale():
    old = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    newer = old + timedelta(minutes=30)
    now = old + timedelta(hours=1)
    fresh = Outcome(BALANCE, None, now)
    data = MemberData(
        member_id=MEMBER,
        params=None,  # type: ignore[arg-type]
        scope_balance=Outcome(BALANCE, None, newer, stale_because=UpstreamTimeout("slow")),
        program_balances={1933: Outcome(BALANCE, None, old, stale_because=UpstreamTimeout("s"))},
        schedule=fresh,
    )
    assert data.stale and data.stale_since == old and not data.all_failed
    calm = MemberData(MEMBER, None, fresh, {}, fresh)  # type: ignore[arg-type]
    assert not calm.stale and calm.stale_since is None


def test_a_lookup_map_key_is_the_hash_not_the_identifier(app):
    member = MemberLookup((Identifier("mobile", MOBILE),), source="INSTORE")
    with app.app_context():
        key = who_key(member)
        assert key == f"{WHO_PREFIX}INSTORE::mobile:{exact_hash('mobile', MOBILE)}"
        assert exact_hash("mobile", MOBILE) != identifier_hash(MOBILE)
    assert MOBILE not in key


@pytest.mark.parametrize("value", [-1, "soon", float("inf")])
def test_a_bad_stale_maximum_is_refused_at_start(sandbox, value):
    with pytest.raises(ConfigError, match="LOOKUP_STALE_MAX_SECONDS"):
        create_app({**sandbox_config(sandbox), "LOOKUP_STALE_MAX_SECONDS": value})
