"""/metrics: the Prometheus text exposition, who may read it, what it counts, and its sums
over gunicorn's worker processes.

The metric objects are process-wide (the suite builds many apps in one process), so the
tests compare a scrape before and after what they do, never absolute values.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from app import create_app, metrics
from app.audit.models import AuditRecord
from app.capillary import (
    AccessDenied,
    CapillaryError,
    InvalidProgram,
    MalformedResponse,
    MemberNotFound,
    UpstreamApiError,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.config_rules import ConfigError
from app.extensions import db
from app.sandbox import data as demo
from bench import harness
from tests.conftest import sandbox_config, soup
from tests.support.fake_upstream import json_response
from tests.support.metrics_samples import Samples, calls, delta, lookups, parse

MEMBER = demo.DEMO_MEMBERS_BY_ID[demo.MEMBER_MULTI_PROGRAM]
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(app) -> Samples:
    response = app.test_client().get("/metrics", environ_base=LOOPBACK)
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


# Who may read it.


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_reads_the_text_format_without_signing_in(anon_client, address):
    response = anon_client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200
    assert response.content_type == CONTENT_TYPE_LATEST  # the text format, not OpenMetrics
    assert response.mimetype == "text/plain"
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "pointsdesk_lookup_seconds",
        "pointsdesk_upstream_call_seconds",
        "pointsdesk_cache_lookups",
        "pointsdesk_stale_pages",
        "pointsdesk_budget_refusals",
        "pointsdesk_share_refusals",
        "pointsdesk_busy_pages",
    } <= names
    # No session is started for a scraper.
    assert "Set-Cookie" not in response.headers


def test_another_address_gets_the_plain_404_of_an_unknown_page(make_client):
    client = make_client(METRICS_ALLOWED="10.9.0.0/16")
    refused = client.get("/metrics", environ_base=LOOPBACK)
    unknown = client.get("/no-such-page", environ_base=LOOPBACK)
    assert (refused.status_code, unknown.status_code) == (404, 404)
    refused_page, unknown_page = soup(refused), soup(unknown)
    assert refused_page.title.get_text() == unknown_page.title.get_text()
    assert refused_page.select_one("main").get_text() == unknown_page.select_one("main").get_text()
    assert "pointsdesk" not in refused.text


def test_an_outsider_signed_in_or_not_gets_a_404(client, anon_client):
    for who in (client, anon_client):
        assert who.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404


def test_a_cidr_network_opens_it_to_that_network_only(make_app):
    client = make_app(METRICS_ALLOWED="10.20.0.0/16, 192.0.2.7").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.3.4"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.21.0.1"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 404
    # Loopback is only in the default.
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 404


def test_empty_means_nobody(make_app):
    client = make_app(METRICS_ALLOWED="").test_client()
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 404


def test_an_ipv4_mapped_ipv6_peer_counts_as_its_ipv4_address(anon_client):
    response = anon_client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"})
    assert response.status_code == 200


def test_a_forwarded_request_without_proxy_fix_is_refused_even_from_loopback(anon_client):
    # PROXY_FIX_X_FOR=0: a local reverse proxy makes every visitor look like 127.0.0.1; the
    # forwarding header it adds says so, and that request is not the scraper.
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        response = anon_client.get("/metrics", environ_base=LOOPBACK, headers=header)
        assert response.status_code == 404


def test_behind_proxy_fix_the_forwarded_client_address_is_checked(make_app):
    client = make_app(PROXY_FIX_X_FOR=1, METRICS_ALLOWED="10.20.0.0/16").test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def get(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return client.get("/metrics", environ_base=proxy, headers=headers).status_code

    assert get("10.20.1.1") == 200  # the proxy says the scraper is on the allowed network
    assert get("203.0.113.9") == 404  # a visitor through the proxy
    # A visitor's own X-Forwarded-For comes first; the proxy appends the real address.
    assert get("10.20.1.1, 203.0.113.9") == 404


def test_behind_proxy_fix_a_direct_client_cannot_forward_itself_in(make_app):
    # The app is reachable past its proxy too: a client that connects straight to it says
    # it was forwarded for 127.0.0.1. ProxyFix believes the header; the real peer decides.
    client = make_app(PROXY_FIX_X_FOR=1).test_client()
    for forwarded_for in ("127.0.0.1", "::1", "10.9.9.9, 127.0.0.1"):
        response = client.get(
            "/metrics",
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
            headers={"X-Forwarded-For": forwarded_for},
        )
        assert response.status_code == 404, forwarded_for
    # The scraper itself, straight to the app or through the local proxy, still reads it.
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 200
    through_proxy = client.get(
        "/metrics", environ_base=LOOPBACK, headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert through_proxy.status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1,::1", ["127.0.0.1/32", "::1/128"]),
        (" 10.0.0.0/8 , 192.0.2.1 ", ["10.0.0.0/8", "192.0.2.1/32"]),
        (["10.1.0.0/16"], ["10.1.0.0/16"]),
        ("", []),
    ],
)
def test_allowed_addresses_are_read_as_networks(sandbox, raw, expected):
    app = create_app({**sandbox_config(sandbox), "METRICS_ALLOWED": raw})
    assert [str(network) for network in app.config["METRICS_ALLOWED"]] == expected


@pytest.mark.parametrize("raw", ["localhost", "10.0.0.5/8", "127.0.0.1;::1", "300.1.1.1", 7])
def test_a_bad_allowed_list_stops_the_start(sandbox, raw):
    with pytest.raises(ConfigError, match="METRICS_ALLOWED"):
        create_app({**sandbox_config(sandbox), "METRICS_ALLOWED": raw})


def test_the_default_comes_from_the_environment_too(sandbox, monkeypatch):
    monkeypatch.setenv("FLASK_METRICS_ALLOWED", "10.3.0.0/24,::1")
    app = create_app(sandbox_config(sandbox))
    assert [str(n) for n in app.config["METRICS_ALLOWED"]] == ["10.3.0.0/24", "::1/128"]


def test_scrapes_write_no_audit_record(app):
    client = app.test_client()
    with app.app_context():
        records = db.session.scalar(select(func.count()).select_from(AuditRecord))
    for _ in range(3):
        assert client.get("/metrics", environ_base=LOOPBACK).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditRecord)) == records


# What it counts.


def test_a_lookup_and_its_page_move_the_counters(app, client, upstream):
    before = scrape(app)
    found = client.post("/lookup", data={"identifier_type": "mobile", "identifier": MEMBER.mobile})
    assert found.status_code == 302
    assert client.get(found.headers["Location"]).status_code == 200
    after = scrape(app)

    assert lookups(after, "search", "found") - lookups(before, "search", "found") == 1
    assert lookups(after, "member", "found") - lookups(before, "member", "found") == 1
    # The lookup's round: a balance per configured program (the default program's is the
    # page's scope too), the schedule, customer details and the expiry schedule; its page
    # came from the cache.
    programs = len(sandbox_config(upstream)["CAPILLARY_PROGRAMS"])
    assert len(upstream.request_log()) == programs + 3
    assert calls(after, "balance", "ok") - calls(before, "balance", "ok") == programs
    assert calls(after, "schedule", "ok") - calls(before, "schedule", "ok") == 1
    assert calls(after, "customer", "ok") - calls(before, "customer", "ok") == 1
    assert calls(after, "expiry", "ok") - calls(before, "expiry", "ok") == 1
    assert delta(before, after, "pointsdesk_cache_lookups_total", result="hit") == programs + 3
    assert delta(before, after, "pointsdesk_cache_lookups_total", result="miss") == 0
    # The sums moved with the counts: each call took some time.
    assert (
        delta(before, after, "pointsdesk_upstream_call_seconds_sum", api="balance", outcome="ok")
        > 0
    )


def test_a_cold_link_misses_every_call_and_a_refresh_does_not_look_in_the_cache(
    app, client, upstream
):
    before = scrape(app)
    assert client.get(f"/members/{MEMBER.id}").status_code == 200
    cold = scrape(app)
    assert delta(before, cold, "pointsdesk_cache_lookups_total", result="miss") == 6
    assert delta(before, cold, "pointsdesk_cache_lookups_total", result="hit") == 0
    assert client.post(f"/members/{MEMBER.id}/refresh").status_code == 302
    refreshed = scrape(app)
    # A refresh goes past the cache: it does not look in it at all.
    assert delta(cold, refreshed, "pointsdesk_cache_lookups_total", result="miss") == 0
    assert lookups(refreshed, "refresh", "found") - lookups(cold, "refresh", "found") == 1


def test_a_failing_upstream_call_is_counted_by_its_outcome(agent, fake):
    # 503 is retried (RETRY_POLICY): the retries are inside the one call.
    fake.handlers["balance:1933"] = lambda _: json_response({"errors": []}, status=503)
    client = agent()
    app = client.application
    before = scrape(app)
    page = client.get("/members/4242")
    assert page.status_code == 200  # the other program and the schedule are shown
    after = scrape(app)
    assert calls(after, "balance", "unavailable") - calls(before, "balance", "unavailable") == 1
    assert calls(after, "balance", "ok") - calls(before, "balance", "ok") == 1
    assert calls(after, "schedule", "ok") - calls(before, "schedule", "ok") == 1
    # One call, whatever its retries: the fake saw every attempt (CAPILLARY_RETRIES=2).
    assert fake.count("balance:1933") == 3


def test_a_member_not_found_is_counted_for_the_call_and_the_lookup(agent, fake):
    body = {"errors": [{"code": 8015, "message": "Customer not found"}]}
    fake.handlers["*"] = lambda _: json_response(body, status=400)
    client = agent()
    before = scrape(client.application)
    assert client.get("/members/4242").status_code == 404
    after = scrape(client.application)
    assert calls(after, "balance", "not_found") - calls(before, "balance", "not_found") == 2
    assert lookups(after, "member", "not_found") - lookups(before, "member", "not_found") == 1


def test_a_refused_form_is_a_lookup_view_with_no_lookup(app, client):
    before = scrape(app)
    refused = client.post("/lookup", data={"identifier_type": "mobile", "identifier": ""})
    assert refused.status_code == 400
    after = scrape(app)
    assert lookups(after, "search", "none") - lookups(before, "search", "none") == 1
    assert calls(after, "balance", "ok") == calls(before, "balance", "ok")


def test_busy_pages_are_counted_and_are_not_lookups(make_client, upstream):
    client = make_client(LOOKUP_MAX_CONCURRENT=0)
    app = client.application
    before = scrape(app)
    assert client.get(f"/members/{MEMBER.id}").status_code == 503
    assert client.post("/lookup", data={"identifier": MEMBER.mobile}).status_code == 503
    after = scrape(app)
    assert delta(before, after, "pointsdesk_busy_pages_total") == 2
    assert lookups(after, "member", "none") == lookups(before, "member", "none")
    assert upstream.request_log() == []


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "ok"),
        (MemberNotFound("x", code=8015), "not_found"),
        (AccessDenied("x", status=401), "access_denied"),
        (InvalidProgram("x", code=885), "api_error"),
        (UpstreamApiError("x", code=1212), "api_error"),
        (UpstreamTimeout("x"), "timeout"),
        (UpstreamMisconfigured("x", status=404), "misconfigured"),
        (UpstreamUnavailable("x", status=503), "unavailable"),
        (MalformedResponse("x"), "malformed"),
        (CapillaryError("x"), "other"),
    ],
)
def test_each_error_class_has_its_call_outcome(error, outcome):
    assert metrics.call_outcome(error) == outcome


def test_the_stale_and_budget_counters_count(app):
    before = scrape(app)
    metrics.stale_page()
    metrics.budget_refusal()
    metrics.budget_refusal()
    after = scrape(app)
    assert delta(before, after, "pointsdesk_stale_pages_total") == 1
    assert delta(before, after, "pointsdesk_budget_refusals_total") == 2


def test_labels_outside_the_fixed_sets_are_folded_into_other(app):
    before = scrape(app)
    metrics.observe_lookup("919800000001", "asha.rao@example.com", 0.1)
    metrics.upstream_call("customer 700000001", "ok", 0.1)
    after = scrape(app)
    assert lookups(after, "other", "other") - lookups(before, "other", "other") == 1
    assert calls(after, "other", "ok") - calls(before, "other", "ok") == 1


LABEL_VALUES = {
    "page": {*metrics.PAGES, metrics.OTHER},
    "outcome": {
        *metrics.LOOKUP_OUTCOMES,
        "ok",
        *(name for _, name in metrics.CALL_OUTCOMES),
        metrics.OTHER,
    },
    "api": {*metrics.APIS, metrics.OTHER},
    "result": {"hit", "miss"},
    "le": None,  # bucket bounds: numbers
}


def test_the_exposition_names_no_member_identifier_or_staff_member(app, client, upstream):
    for kind, typed in (("mobile", MEMBER.mobile), ("email", MEMBER.email)):
        client.post("/lookup", data={"identifier_type": kind, "identifier": typed})
    client.get(f"/members/{MEMBER.id}")
    text = app.test_client().get("/metrics", environ_base=LOOPBACK).text
    for personal in (MEMBER.mobile, MEMBER.mobile[-10:], MEMBER.email, str(MEMBER.id), "alice"):
        assert personal not in text
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("pointsdesk_"):
            continue
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                allowed = LABEL_VALUES[label]
                assert allowed is None or label_value in allowed, (sample.name, label)


# Several worker processes.


def _post_lookups(base: str, cookies, count: int) -> list[int]:
    """count lookups at once, each on a connection of its own (so any worker may take it)."""
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        with requests.Session() as session:
            session.cookies.update(cookies)
            page = session.get(base + "/", timeout=30)
            response = session.post(
                base + "/lookup",
                data={
                    "identifier_type": "mobile",
                    "identifier": MEMBER.mobile,
                    "csrf_token": harness.csrf_token(page.text),
                },
                headers={"Connection": "close"},
                timeout=30,
                allow_redirects=False,
            )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _workers_that_looked_up(directory: Path) -> set[str]:
    # prometheus_client keeps one histogram file per process, made on its first observation.
    return {path.stem.rpartition("_")[2] for path in directory.glob("histogram_*.db")}


def test_under_gunicorn_the_metrics_add_up_every_workers_lookups(upstream, tmp_path):
    config = sandbox_config(upstream)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    # Left over from an earlier run: the server's start clears it out.
    (metrics_dir / "counter_1.db").write_bytes(b"left over")
    env = harness.app_env(
        tmp_path,
        (upstream.url, upstream.username, upstream.password),
        config["CAPILLARY_PROGRAMS"],
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    harness.prepare_database(env, ["agent.alice"])
    # Each lookup waits a little upstream, so lookups sent at once spread over the workers.
    upstream.configure(latency=0.2)
    made: list[int] = []
    with harness.Processes() as procs:
        base = harness.start_gunicorn(procs, env, harness.free_port(), workers=2, threads=8)
        assert not (metrics_dir / "counter_1.db").exists()
        cookies = harness.signed_in(base, "agent.alice").cookies
        for _ in range(10):
            made += _post_lookups(base, cookies, 4)
            if len(_workers_that_looked_up(metrics_dir)) == 2:
                break
        scraped = requests.get(base + "/metrics", timeout=10)
        outsider = requests.get(
            base + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
        )
    assert made and set(made) == {302}
    assert len(_workers_that_looked_up(metrics_dir)) == 2, "one worker took every lookup"
    assert scraped.status_code == 200
    samples = parse(scraped.text)
    assert lookups(samples, "search", "found") == len(made)
    programs = len(config["CAPILLARY_PROGRAMS"])
    assert calls(samples, "balance", "ok") == programs * len(made)
    assert calls(samples, "schedule", "ok") == len(made)
    assert outsider.status_code == 404


def test_lookups_the_upstream_budget_refuses_are_counted(make_client, upstream):
    # The demo's three programs: one lookup needs at most seven calls (four balances, the
    # schedule, customer details and the expiry schedule), so the ceiling covers the first
    # page and not the refresh that follows it.
    client = make_client(CAPILLARY_CALLS_PER_MINUTE=7)
    app = client.application
    assert client.get(f"/members/{MEMBER.id}").status_code == 200
    before = scrape(app)
    refused = client.post(f"/members/{MEMBER.id}/refresh")
    after = scrape(app)
    assert refused.status_code == 503
    assert delta(before, after, "pointsdesk_budget_refusals_total") == 1
    assert delta(before, after, "pointsdesk_share_refusals_total") == 0  # the desk's ceiling
    assert delta(before, after, "pointsdesk_busy_pages_total") == 0


def test_lookups_refused_for_the_staff_members_own_share_are_counted(make_client, upstream):
    # At most seven calls a page (four balances, the schedule, customer details and the
    # expiry schedule): one page a minute each.
    client = make_client(CAPILLARY_CALLS_PER_MINUTE=40, CAPILLARY_CALLS_PER_STAFF=7)
    app = client.application
    assert client.get(f"/members/{MEMBER.id}").status_code == 200
    before = scrape(app)
    refused = client.post(f"/members/{MEMBER.id}/refresh")
    after = scrape(app)
    assert refused.status_code == 503
    assert delta(before, after, "pointsdesk_budget_refusals_total") == 1
    assert delta(before, after, "pointsdesk_share_refusals_total") == 1
