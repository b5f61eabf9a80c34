"""Start-up configuration: mistakes are refused at start, naming the key at fault."""

from __future__ import annotations

import threading

import pytest

from app import create_app
from app.config_rules import ConfigError
from tests.conftest import sandbox_config

PRODUCTION = {
    "SECRET_KEY": "s" * 32,
    "AUDIT_HASH_KEY": "a" * 32,
    "DATABASE_URL": "sqlite://",
}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DISPLAY_TIMEZONE", "Asia/Kolkatta"),
        ("CAPILLARY_CLUSTER_TIMEZONE", "Mars/Olympus"),
        ("NUMBER_LOCALE", "xx_NOWHERE"),
    ],
)
def test_a_misspelt_zone_or_locale_is_refused_at_start(sandbox, key, value):
    with pytest.raises(ConfigError, match=key):
        create_app({**sandbox_config(sandbox), key: value})


def test_production_without_an_upstream_refuses_to_show_demo_data(monkeypatch):
    for name in ("FLASK_CAPILLARY_BASE_URL", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="CAPILLARY_BASE_URL is not set"):
        create_app({**PRODUCTION})


def test_production_demo_with_the_sandbox_asked_for_explicitly(monkeypatch, caplog):
    monkeypatch.delenv("FLASK_CAPILLARY_BASE_URL", raising=False)
    app = create_app({**PRODUCTION, "CAPILLARY_SANDBOX": True})
    try:
        assert app.config["CAPILLARY_BASE_URL"] == app.extensions["sandbox"].url
        assert "each server process counts its own rate limits" in caplog.text
    finally:
        app.extensions["sandbox"].stop()


def test_the_embedded_sandbox_fills_the_upstream_keys_before_the_checks(monkeypatch):
    # OAuth asked for with no key: only the sandbox's own client can satisfy check(), so the
    # app starting at all shows the sandbox filled the keys before they were checked.
    monkeypatch.delenv("FLASK_CAPILLARY_BASE_URL", raising=False)
    app = create_app({**PRODUCTION, "CAPILLARY_SANDBOX": True, "CAPILLARY_AUTH": "oauth"})
    sandbox = app.extensions["sandbox"]
    try:
        assert app.config["CAPILLARY_OAUTH_KEY"] == sandbox.oauth_key
        assert app.extensions["capillary"].base_url == sandbox.url
    finally:
        sandbox.stop()


def test_a_sandbox_started_for_a_config_that_is_then_refused_is_stopped(monkeypatch):
    monkeypatch.delenv("FLASK_CAPILLARY_BASE_URL", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    before = sum(thread.name == "capillary-sandbox" for thread in threading.enumerate())
    with pytest.raises(ConfigError, match="AUDIT_HASH_KEY"):
        create_app({**PRODUCTION, "AUDIT_HASH_KEY": None, "CAPILLARY_SANDBOX": True})
    after = sum(thread.name == "capillary-sandbox" for thread in threading.enumerate())
    assert after == before


def test_a_page_waits_four_seconds_by_default_and_its_calls_give_up_with_it():
    from app.config import Defaults

    assert Defaults.LOOKUP_DEADLINE == 4.0
    # A call outliving the page would keep a pool thread for a page nobody waits for.
    assert Defaults.CAPILLARY_CALL_DEADLINE <= Defaults.LOOKUP_DEADLINE


def test_the_upstream_wait_leaves_the_page_its_margin_of_the_deadline():
    from app.lookup.fetching.service import PAGE_MARGIN_SECONDS, upstream_wait

    assert upstream_wait(4.0) == 4.0 - PAGE_MARGIN_SECONDS
    # A deadline shorter than twice the margin keeps half of itself for the upstream.
    assert upstream_wait(0.1) == 0.05
