"""The shared upstream budget (CAPILLARY_CALLS_PER_MINUTE): every lookup reserves all its
calls before it makes any; when the minute's budget cannot cover them, or a 429 paused the
desk, the page says "the desk is busy, try again in N s" and nothing goes upstream.

The fake Capillary's request log (fake.seen) is what proves no call was made. The in-process
budget runs on the app's frozen clock; the Redis one on the shared Redis (127.0.0.1:6379)
under a key prefix of the test's own, or on a redis-server of the test's own.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import redis
from flask import Flask
from werkzeug import Request, Response

from app import create_app
from app.audit.models import AuditRecord
from app.capillary import RateLimited
from app.capillary.retry_after import parse_retry_after
from app.config_rules import ConfigError
from app.extensions import db, limiter
from app.lookup.budget.counts import (
    BudgetExhausted,
    Limits,
    MemoryBudget,
    UpstreamBudget,
    pause_seconds,
)
from app.lookup.fetching.service import get_service
from tests.conftest import (
    ADMIN,
    AGENT,
    FROZEN_AT,
    add_staff,
    normalize_spaces,
    sandbox_config,
    sign_in,
    soup,
)
from tests.support.fake_upstream import (
    FAST,
    MEMBER,
    MOBILE,
    PASSWORD,
    USERNAME,
    balance_body,
    json_response,
    respond,
    schedule_body,
)
from tests.support.fault_servers import OwnRedis
from tests.support.redis_fixtures import REDIS_URL

# Three calls a page: the balances of the fake's two programs (2199 is also the scope's)
# and the schedule.
BALANCES_PER_PAGE = 2

# The member-story APIs (customer details, expiry, ledger): counted too, none used here
# (the fake serves balances and schedules only; FAST switches the story calls off).
STORY_APIS = ("customer", "expiry", "ledger")
NONE = dict.fromkeys(STORY_APIS, 0)


@pytest.fixture(autouse=True)
def _limiter_state_is_this_tests() -> Iterator[None]:
    # The limiter is one per process; a test that kills its Redis must not leave it "dead".
    yield
    limiter._storage_dead = False


@pytest.fixture
def desk(make_app, fake_server, fake) -> Callable[..., Flask]:
    """An app whose upstream is the fake, nothing cached (each page is a round of calls)."""

    def build(**overrides: object) -> Flask:
        config = {
            **FAST,
            "CAPILLARY_BASE_URL": fake_server.url_for("/"),
            "CAPILLARY_USERNAME": USERNAME,
            "CAPILLARY_PASSWORD": PASSWORD,
            "LOOKUP_CACHE_SECONDS": 0,
            "LOOKUP_ERROR_CACHE_SECONDS": 0,
            **overrides,
        }
        return make_app(**config)

    return build


def member_page(client):
    return client.get(f"/members/{MEMBER}")


def refresh(client):
    return client.post(f"/members/{MEMBER}/refresh")


def busy_words(response) -> str:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    notice = soup(response).select_one("#budget-message")
    assert notice is not None
    return normalize_spaces(notice.get_text())


def figures(admin) -> dict[str, tuple[str, str, str]]:
    """Counter -> (ceiling, used, left), from the admin page."""
    response = admin.get("/admin/upstream-budget")
    assert response.status_code == 200
    rows = soup(response).select("#budget-table .budget-row")
    return {
        row["id"].removeprefix("budget-"): tuple(
            normalize_spaces(row.select_one(f".budget-{cell}").get_text())
            for cell in ("ceiling", "used", "left")
        )
        for row in rows
    }


def pause_text(admin) -> str:
    return normalize_spaces(
        soup(admin.get("/admin/upstream-budget")).select_one("#budget-pause").text
    )


def staff_clients(app: Flask, *names: str) -> list:
    """Signed-in clients of new agents with these names."""
    with app.app_context():
        for name in names:
            add_staff(name, "agent")
    return [sign_in(app.test_client(), name) for name in names]


# The calls of one page with the fake's two programs (2199 is also the scope's): two
# balances and the schedule. The start-up check allows for four (the all-programs scope).
PAGE = 3


def whole(ceiling: int) -> dict[str, object]:
    """A ceiling with no fair-share rule in the way: one staff member may spend all of it,
    nothing is kept back (for the tests of the ceiling itself)."""
    return {
        "CAPILLARY_CALLS_PER_MINUTE": ceiling,
        "CAPILLARY_CALLS_PER_STAFF": ceiling,
        "CAPILLARY_BUDGET_RESERVE": 0,
    }


# --- in this process (memory://), on the frozen clock ------------------------------------


def test_a_lookup_gets_all_its_calls_or_none(desk, fake):
    app = desk(**whole(8))
    agent, admin = sign_in(app.test_client(), AGENT), sign_in(app.test_client(), ADMIN)
    assert member_page(agent).status_code == 200
    assert member_page(agent).status_code == 200
    assert len(fake.seen) == 2 * PAGE
    # 6 of 8 calls spent: the next page needs 3, so it gets none, not even the two that
    # would still fit.
    refused = member_page(agent)
    assert busy_words(refused) == "The desk is busy: try again in 60 s."
    assert refused.headers["Retry-After"] == "60"
    assert len(fake.seen) == 2 * PAGE
    assert figures(admin) == {"all": ("8 a minute", "6", "2")}


def test_by_default_the_ceiling_counts_every_api_together(desk, fake):
    # The safe reading of the rate-limit page: 100 "per API key" and "per API" alike.
    app = desk(CAPILLARY_CALLS_PER_MINUTE=100)
    with app.app_context():
        budget = get_service().budget
    assert budget.per_api is False
    assert budget.limits == {"all": Limits(ceiling=100, per_staff=25, reserve=20)}
    admin = sign_in(app.test_client(), ADMIN)
    reading = soup(admin.get("/admin/upstream-budget")).select_one("#budget-reading")
    assert "every API together" in normalize_spaces(reading.get_text())


def test_per_api_ceilings_only_when_asked_for(desk, fake):
    app = desk(
        CAPILLARY_CALLS_PER_MINUTE=5,
        CAPILLARY_BUDGET_PER_API="true",
        CAPILLARY_CALLS_PER_STAFF=5,
        CAPILLARY_BUDGET_RESERVE=0,
    )
    agent, admin = sign_in(app.test_client(), AGENT), sign_in(app.test_client(), ADMIN)
    assert member_page(agent).status_code == 200
    assert member_page(agent).status_code == 200
    # 4 of 5 balance calls spent: the next page needs 2, so it gets none, not even the
    # schedule call that would still fit.
    assert busy_words(member_page(agent)) == "The desk is busy: try again in 60 s."
    assert len(fake.seen) == 2 * PAGE
    assert figures(admin) == {
        "balance": ("5 a minute", "4", "1"),
        "schedule": ("5 a minute", "2", "3"),
        **{api: ("5 a minute", "0", "5") for api in STORY_APIS},
    }


def test_per_api_ceilings_from_a_mapping(desk, fake):
    app = desk(
        CAPILLARY_CALLS_PER_MINUTE=50,
        CAPILLARY_BUDGET_PER_API=json.dumps({"balance": 40}),
    )
    with app.app_context():
        limits = get_service().budget.limits
    assert limits == {
        "balance": Limits(ceiling=40, per_staff=10, reserve=8),
        **{
            api: Limits(ceiling=50, per_staff=12, reserve=10)
            for api in ("schedule", "customer", "expiry", "ledger")
        },
    }


def test_the_window_frees_as_the_minute_passes(desk, fake, clock):
    app = desk(**whole(4))
    agent = sign_in(app.test_client(), AGENT)
    assert member_page(agent).status_code == 200
    clock.advance(timedelta(seconds=20))
    assert busy_words(member_page(agent)) == "The desk is busy: try again in 40 s."
    clock.advance(timedelta(seconds=39))
    assert busy_words(member_page(agent)) == "The desk is busy: try again in 1 s."
    assert len(fake.seen) == PAGE
    clock.advance(timedelta(seconds=1))
    assert member_page(agent).status_code == 200
    assert len(fake.seen) == 2 * PAGE


def test_a_refused_lookup_keeps_what_was_typed_and_calls_nothing(desk, fake):
    app = desk(**whole(4))
    agent = sign_in(app.test_client(), AGENT)
    assert member_page(agent).status_code == 200
    fake.seen.clear()
    typed = "+91 98000 00001"
    response = agent.post("/lookup", data={"identifier_type": "mobile", "identifier": typed})
    assert busy_words(response) == "The desk is busy: try again in 60 s."
    assert response.headers["Retry-After"] == "60"
    page = soup(response)
    assert page.select_one("#identifier")["value"] == typed
    assert page.select_one("#lookup-failure") is None  # nothing failed upstream
    assert fake.seen == []


def test_a_cached_page_still_shows_when_the_budget_is_spent(desk, fake):
    app = desk(**whole(4), LOOKUP_CACHE_SECONDS=300)
    agent = sign_in(app.test_client(), AGENT)
    assert member_page(agent).status_code == 200
    again = member_page(agent)
    assert again.status_code == 200
    assert soup(again).select_one("#budget-message") is None
    assert len(fake.seen) == PAGE
    # A refresh goes past the cache: it needs calls, and the budget has none left.
    assert busy_words(refresh(agent)) == "The desk is busy: try again in 60 s."
    assert len(fake.seen) == PAGE


def test_a_refused_lookup_writes_no_audit_record(desk, fake):
    app = desk(**whole(4))
    agent = sign_in(app.test_client(), AGENT)
    form = {"identifier_type": "mobile", "identifier": MOBILE}
    assert agent.post("/lookup", data=form).status_code == 302
    assert agent.post("/lookup", data=form).status_code == 503
    with app.app_context():
        outcomes = db.session.scalars(db.select(AuditRecord.outcome)).all()
    # Like a lookup turned away by the bulkhead: nothing was asked, nothing was shown.
    assert outcomes == ["found"]


def test_each_reading_of_a_typed_value_reserves_its_own_calls(desk, fake):
    # By mobile nobody is found; by customer id the member would be.
    def not_by_mobile(request: Request) -> Response:
        if "/lookup/" in request.path:
            return json_response({"errors": [{"code": 8015, "message": "Customer not found"}]})
        if request.path.endswith("/promisedPointsSchedule"):
            return json_response(schedule_body())
        return json_response(balance_body(int(request.args["programId"])))

    fake.handlers["*"] = not_by_mobile
    app = desk(**whole(5))
    agent = sign_in(app.test_client(), AGENT)
    typed = "9811112222"  # a mobile without its country code, or a customer id
    response = agent.post("/lookup", data={"identifier_type": "auto", "identifier": typed})
    # The mobile reading spent 3 of the 5 calls; the customer id reading needs 3.
    assert busy_words(response) == "The desk is busy: try again in 60 s."
    assert soup(response).select_one("#identifier")["value"] == typed
    # Only the mobile reading's three calls reached the upstream.
    assert [args.get("identifierName") for _, args, _ in fake.seen] == ["mobile"] * 3
    assert app.extensions["lookup"].budget.usage().used == {"all": 3}


# --- fair shares: each staff member's cap, and the reserve ---------------------------------


def test_an_agent_past_their_own_share_is_told_it_is_theirs_and_others_get_through(
    desk, fake, clock
):
    app = desk(CAPILLARY_CALLS_PER_MINUTE=30, CAPILLARY_CALLS_PER_STAFF=9)
    hammer, other = staff_clients(app, "agent.hammer", "agent.other")
    for _ in range(3):
        assert refresh(hammer).status_code == 302
    clock.advance(timedelta(seconds=15))
    refused = refresh(hammer)
    assert busy_words(refused) == (
        "You have used your share of lookups this minute: try again in 45 s."
    )
    assert refused.headers["Retry-After"] == "45"
    assert len(fake.seen) == 3 * PAGE
    # The desk is far from spent: anyone else still looks members up.
    assert member_page(other).status_code == 200
    assert len(fake.seen) == 4 * PAGE


def the_reserve_is_kept_for_light_users(app: Flask, fake) -> None:
    """24 calls; 6 kept back, open to someone whose own calls stay within 3 (one page)."""
    heavy, busy, fresh, late = staff_clients(
        app, "agent.heavy", "agent.busy", "agent.fresh", "agent.late"
    )
    for _ in range(4):
        assert member_page(heavy).status_code == 200  # 12: heavy's whole share
    assert busy_words(member_page(heavy)).startswith("You have used your share")
    for _ in range(2):
        assert member_page(busy).status_code == 200  # 18: all but the reserve
    # busy is within their own share, but past the reserve's light use: the desk's words.
    assert busy_words(member_page(busy)).startswith("The desk is busy: try again in ")
    # Someone who has made no lookup this minute still gets in, from the reserve.
    assert member_page(fresh).status_code == 200
    assert busy_words(member_page(fresh)).startswith("The desk is busy: try again in ")
    assert member_page(late).status_code == 200  # 24: the ceiling
    assert len(fake.seen) == 8 * PAGE


SHARES = {
    "CAPILLARY_CALLS_PER_MINUTE": 24,
    "CAPILLARY_CALLS_PER_STAFF": 12,
    "CAPILLARY_BUDGET_RESERVE": 6,
}


def test_the_reserve_is_kept_for_staff_who_have_used_little_of_the_minute(desk, fake):
    the_reserve_is_kept_for_light_users(desk(**SHARES), fake)


@pytest.mark.redis
def test_the_reserve_in_redis(desk, fake, redis_prefix, redis_server):
    app = desk(
        **SHARES,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix + "limits",
        CAPILLARY_BUDGET_KEY_PREFIX=redis_prefix + "budget:",
    )
    the_reserve_is_kept_for_light_users(app, fake)
    assert redis_server.zcard(redis_prefix + "budget:all") == 24
    # Each person's calls under a hash of their key, never their name.
    staff_keys = [k.decode() for k in redis_server.scan_iter(match=redis_prefix + "budget:all:*")]
    assert len(staff_keys) == 4
    assert not [key for key in staff_keys if "agent." in key]


def _too_many(**headers: str):
    body = {"errors": [{"code": 429, "message": "Too many requests"}]}
    return respond(body, 429, **headers)


def test_a_429_pauses_every_lookup_until_its_retry_after(desk, fake, clock):
    app = desk(CAPILLARY_CALLS_PER_MINUTE=100)
    agent, admin = sign_in(app.test_client(), AGENT), sign_in(app.test_client(), ADMIN)
    fake.handlers["schedule"] = _too_many(**{"Retry-After": "30"})
    assert member_page(agent).status_code == 200  # the balances came; the schedule did not
    assert fake.count("schedule") == 1  # a 429 is not retried within the call
    del fake.handlers["schedule"]
    calls = len(fake.seen)
    clock.advance(timedelta(seconds=10))
    assert busy_words(member_page(agent)) == "The desk is busy: try again in 20 s."
    assert len(fake.seen) == calls
    assert pause_text(admin).startswith("Paused for another 20 s")
    clock.advance(timedelta(seconds=20))
    assert member_page(agent).status_code == 200
    assert len(fake.seen) == calls + 3
    assert pause_text(admin) == "Not paused."


def test_a_429_retry_after_date_is_read_on_the_app_clock(desk, fake, clock):
    app = desk(CAPILLARY_CALLS_PER_MINUTE=100)
    agent = sign_in(app.test_client(), AGENT)
    when = format_datetime(clock.now() + timedelta(seconds=45), usegmt=True)
    fake.handlers["*"] = _too_many(**{"Retry-After": when})
    member_page(agent)
    fake.handlers.clear()
    assert busy_words(member_page(agent)) == "The desk is busy: try again in 45 s."


def test_a_429_asking_for_an_hour_pauses_five_minutes(desk, fake):
    app = desk(CAPILLARY_CALLS_PER_MINUTE=100)
    agent = sign_in(app.test_client(), AGENT)
    fake.handlers["*"] = _too_many(**{"Retry-After": "3600"})
    member_page(agent)
    fake.handlers.clear()
    assert busy_words(member_page(agent)) == "The desk is busy: try again in 300 s."


def test_the_retry_after_header_in_its_two_forms():
    assert parse_retry_after("120") == (120.0, None)
    assert parse_retry_after(" 0 ") == (0.0, None)
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") == (
        None,
        datetime(2026, 10, 21, 7, 28, tzinfo=UTC),
    )
    for unreadable in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(unreadable) == (None, None)


def test_the_pause_is_capped_and_has_a_default():
    now = FROZEN_AT
    assert pause_seconds(RateLimited("x", status=429), now) == 60
    assert pause_seconds(RateLimited("x", status=429, retry_after=7200.0), now) == 300
    assert pause_seconds(RateLimited("x", status=429, retry_after=0.0), now) == 1
    past = RateLimited("x", status=429, retry_at=now - timedelta(minutes=5))
    assert pause_seconds(past, now) == 1


def test_the_admin_page_says_no_ceiling_when_unset_and_is_for_admins_only(desk, fake):
    app = desk()
    agent, admin = sign_in(app.test_client(), AGENT), sign_in(app.test_client(), ADMIN)
    assert agent.get("/admin/upstream-budget").status_code == 403
    assert figures(admin) == {
        "balance": ("no ceiling", "not counted", "—"),
        "schedule": ("no ceiling", "not counted", "—"),
        **{api: ("no ceiling", "not counted", "—") for api in STORY_APIS},
    }
    for _ in range(5):
        assert member_page(agent).status_code == 200
    assert len(fake.seen) == 15
    with app.app_context():
        assert get_service().budget.store is None


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"CAPILLARY_CALLS_PER_MINUTE": "lots"}, "must be a whole number"),
        ({"CAPILLARY_CALLS_PER_MINUTE": 0}, "at least 1"),
        # Two programs: three balances, the schedule, customer details and the expiry schedule.
        ({"CAPILLARY_CALLS_PER_MINUTE": 3}, "gives 3 calls a minute, but one lookup can need 6"),
        (
            {"CAPILLARY_CALLS_PER_MINUTE": 9, "CAPILLARY_BUDGET_PER_API": True},
            None,  # per API: 3 balance calls and 1 schedule call a lookup fit
        ),
        (
            {"CAPILLARY_CALLS_PER_MINUTE": 9, "CAPILLARY_BUDGET_PER_API": '{"balance": 2}'},
            "CAPILLARY_BUDGET_PER_API gives 2 balance calls a minute",
        ),
        ({"CAPILLARY_BUDGET_PER_API": '{"points": 9}'}, "does not call: points"),
        ({"CAPILLARY_BUDGET_PER_API": "sometimes"}, "true, false or a JSON object"),
        (
            {"CAPILLARY_CALLS_PER_MINUTE": 20, "CAPILLARY_CALLS_PER_STAFF": 3},
            "CAPILLARY_CALLS_PER_STAFF is 3",
        ),
        (
            {"CAPILLARY_CALLS_PER_MINUTE": 20, "CAPILLARY_BUDGET_RESERVE": 17},
            "CAPILLARY_BUDGET_RESERVE is 17",
        ),
    ],
)
def test_budget_settings_that_cannot_work_are_refused_at_start_up(sandbox, settings, says):
    config = {**sandbox_config(sandbox), **settings}
    config["CAPILLARY_PROGRAMS"] = {2199: "Gold Club", 1933: "Partner Rewards"}
    if says is None:
        create_app(config)
        return
    with pytest.raises(ConfigError, match=says):
        create_app(config)


def test_a_ceiling_needs_a_storage_it_can_share(sandbox):
    config = {
        **sandbox_config(sandbox),
        "CAPILLARY_CALLS_PER_MINUTE": 100,
        "RATELIMIT_STORAGE_URI": "memcached://127.0.0.1:11211",
    }
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app(config)


def test_the_memory_budget_is_all_or_nothing_across_both_apis(clock):
    limits = {api: Limits(3, 3, 0) for api in ("balance", "schedule")}
    budget = UpstreamBudget(limits, MemoryBudget(clock.now), clock.now)
    budget.reserve(["balance", "balance", "schedule"])
    usage = budget.usage()
    assert usage is not None and dict(usage.used) == {"balance": 2, "schedule": 1}
    with pytest.raises(BudgetExhausted, match="try again in 60 s"):
        budget.reserve(["balance", "balance", "schedule"])
    usage = budget.usage()
    assert usage is not None and dict(usage.used) == {"balance": 2, "schedule": 1}
    budget.reserve(["balance", "schedule"])
    usage = budget.usage()
    assert usage is not None and dict(usage.used) == {"balance": 3, "schedule": 2}


def test_no_person_never_draws_on_the_reserve(clock):
    # The readiness probe asks as nobody: it may use the common calls, never the reserve.
    budget = UpstreamBudget({"all": Limits(10, 10, 4)}, MemoryBudget(clock.now), clock.now)
    for _ in range(6):
        assert budget.try_reserve(["balance"])
    assert not budget.try_reserve(["balance"])
    budget.reserve(["balance", "schedule"], who="staff:someone")  # within the light share
    with pytest.raises(BudgetExhausted) as refused:
        budget.reserve(["balance"], who="staff:someone")
    assert refused.value.own is False


# --- in Redis: one count for every worker and server ----------------------------------------


RESERVE_ELSEWHERE = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime
    from app.lookup.budget.counts import BudgetExhausted, Limits, MemoryBudget, UpstreamBudget
    from app.lookup.budget.shared import RedisBudget

    url, prefix, ceiling, kinds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    now = lambda: datetime.now(UTC)
    store = RedisBudget(url, prefix, fallback=MemoryBudget(now))
    budget = UpstreamBudget({"all": Limits(ceiling, ceiling, 0)}, store, now)
    try:
        budget.reserve(kinds, who="staff:elsewhere")
        answer = {"granted": True}
    except BudgetExhausted as refusal:
        answer = {"granted": False, "retry_after": refusal.retry_after}
    answer["reachable"] = store.usage(["all"]).reachable
    print(json.dumps(answer))
    """
)


def reserve_in_another_process(prefix: str, ceiling: int, *kinds: str) -> dict:
    """Reserve calls from a second Python process on the shared Redis, as another server."""
    done = subprocess.run(
        [sys.executable, "-c", RESERVE_ELSEWHERE, REDIS_URL, prefix, str(ceiling), *kinds],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.redis
def test_another_process_spends_the_same_budget(desk, fake, redis_prefix):
    app = desk(
        **whole(7),
        RATELIMIT_STORAGE_URI=REDIS_URL,
        CAPILLARY_BUDGET_KEY_PREFIX=redis_prefix,
    )
    agent, admin = sign_in(app.test_client(), AGENT), sign_in(app.test_client(), ADMIN)
    assert member_page(agent).status_code == 200
    elsewhere = reserve_in_another_process(redis_prefix, 7, "balance", "balance")
    assert elsewhere == {"granted": True, "reachable": True}
    assert figures(admin) == {"all": ("7 a minute", "5", "2")}
    calls = len(fake.seen)
    words = busy_words(member_page(agent))
    assert words.startswith("The desk is busy: try again in ")
    assert 1 <= int(words.split(" in ")[1].removesuffix(" s.")) <= 60
    assert len(fake.seen) == calls
    # All or nothing there too: the refused page took none of the two calls left.
    assert figures(admin) == {"all": ("7 a minute", "5", "2")}
    refused = reserve_in_another_process(redis_prefix, 7, "balance", "balance", "balance")
    assert refused["granted"] is False and 1 <= refused["retry_after"] <= 60


@pytest.mark.redis
def test_a_429_seen_by_one_server_pauses_the_others(desk, fake, redis_prefix, redis_server):
    shared = {
        "CAPILLARY_CALLS_PER_MINUTE": 100,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "CAPILLARY_BUDGET_KEY_PREFIX": redis_prefix,
    }
    first = sign_in(desk(**shared).test_client(), AGENT)
    second_app = desk(**shared)
    second = sign_in(second_app.test_client(), AGENT)
    fake.handlers["*"] = _too_many(**{"Retry-After": "120"})
    first_page = first.get(f"/members/{MEMBER}")
    assert first_page.status_code == 503  # nothing came: "the loyalty system is busy"
    fake.handlers.clear()
    calls = len(fake.seen)
    words = busy_words(member_page(second))
    assert words.startswith("The desk is busy: try again in ")
    assert 100 <= int(words.split(" in ")[1].removesuffix(" s.")) <= 120
    assert len(fake.seen) == calls
    # The pause is a key that expires on the Redis server's clock, for every server alike:
    # bring its end forward rather than wait two minutes, and wait for it to go.
    assert 0 < redis_server.pttl(redis_prefix + "paused") <= 120_000
    redis_server.pexpire(redis_prefix + "paused", 1)
    deadline = time.monotonic() + 30
    while redis_server.exists(redis_prefix + "paused") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert member_page(second).status_code == 200
    assert len(fake.seen) == calls + 3


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    yield server
    server.kill()


@pytest.mark.redis
def test_redis_down_leaves_lookups_going_counted_in_this_process(desk, fake, own_redis, caplog):
    prefix = "pointsdesk-test:budget:"
    app = desk(
        **whole(7),
        RATELIMIT_STORAGE_URI=own_redis.url,
        CAPILLARY_BUDGET_KEY_PREFIX=prefix,
    )
    agent, admin = sign_in(app.test_client(), AGENT), sign_in(app.test_client(), ADMIN)
    assert member_page(agent).status_code == 200
    direct = redis.Redis.from_url(own_redis.url)
    assert direct.zcard(prefix + "all") == PAGE  # really counted in Redis
    direct.close()
    own_redis.kill()
    with caplog.at_level(logging.WARNING, logger="app.lookup.budget.shared"):
        pages = [member_page(agent) for _ in range(3)]
    # No 500: the first two fit this process's own count; the third would pass the ceiling.
    assert [page.status_code for page in pages] == [200, 200, 503]
    assert busy_words(pages[2]) == "The desk is busy: try again in 60 s."
    warnings = [r for r in caplog.records if "upstream budget unavailable" in r.getMessage()]
    assert len(warnings) == 1
    where = soup(admin.get("/admin/upstream-budget")).select_one("#budget-where")
    assert "not answering" in normalize_spaces(where.get_text())


@pytest.mark.redis
def test_no_ceiling_leaves_redis_alone(desk, fake, own_redis):
    prefix = "pointsdesk-test:budget:"
    app = desk(RATELIMIT_STORAGE_URI=own_redis.url, CAPILLARY_BUDGET_KEY_PREFIX=prefix)
    agent = sign_in(app.test_client(), AGENT)
    for _ in range(3):
        assert member_page(agent).status_code == 200
    direct = redis.Redis.from_url(own_redis.url)
    assert direct.keys(prefix + "*") == []
    direct.close()
    with app.app_context():
        assert get_service().budget.store is None


@pytest.mark.redis
def test_one_agent_hammering_refresh_cannot_shut_the_desk_for_another(desk, fake, redis_prefix):
    # The red team's run: 30 refreshes of a member page at once, as one agent, on a desk
    # counting in Redis (budget and rate limits), with the default shares of 30 calls: 7 a
    # staff member, 6 kept back.
    app = desk(
        CAPILLARY_CALLS_PER_MINUTE=30,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix + "limits",
        CAPILLARY_BUDGET_KEY_PREFIX=redis_prefix + "budget:",
    )
    hammer, other = staff_clients(app, "agent.hammer", "agent.other")
    answers = [refresh(hammer) for _ in range(30)]
    assert [answer.status_code for answer in answers[:2]] == [302, 302]  # 6 of their 7 calls
    for answer in answers[2:10]:
        assert busy_words(answer) == (
            "You have used your share of lookups this minute: try again in 60 s."
        )
    # Past REFRESH_RATE_LIMIT (10 a minute), refresh is refused before it is even counted.
    assert {answer.status_code for answer in answers[10:]} == {429}
    assert len(fake.seen) == 2 * PAGE
    # Everyone else's lookups and member pages go on.
    form = {"identifier_type": "mobile", "identifier": MOBILE}
    assert other.post("/lookup", data=form).status_code == 302
    assert member_page(other).status_code == 200
    assert len(fake.seen) == 4 * PAGE  # nothing cached here: the lookup's page fetches too
