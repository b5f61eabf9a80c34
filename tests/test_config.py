"""Start-up configuration: mistakes are refused at start, naming the key at fault."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import ConfigError
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
