"""`flask sandbox run` and start_embedded()."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
import requests
from click.testing import CliRunner
from flask import Flask

from app import clock as app_clock
from app.clock import FrozenClock
from app.config import Defaults
from app.sandbox import cli
from app.sandbox.auth import basic_header
from app.sandbox.data import DEFAULT_PROGRAM, DEMO_PROGRAMS, MEMBER_DOC_BALANCE
from app.sandbox.server import SandboxServer, start_embedded
from tests.conftest import FROZEN_AT


def test_run_serves_with_the_given_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def exercise(server: SandboxServer) -> None:
        # Runs where the command would block: the server is up, so talk to it.
        headers = {"Authorization": basic_header(server.username, server.password)}
        with requests.Session() as session:
            started = time.monotonic()
            balance = session.get(
                f"{server.url}v2/customers/{MEMBER_DOC_BALANCE}/points/balance",
                headers=headers,
                timeout=5,
            )
            seen["elapsed"] = time.monotonic() - started
            seen["balance"] = balance.status_code
            schedule = session.get(
                f"{server.url}v2/customers/{MEMBER_DOC_BALANCE}/promisedPointsSchedule",
                headers=headers,
                timeout=5,
            )
            seen["schedule"] = schedule.status_code
        seen["url"] = server.url

    monkeypatch.setattr(cli, "WAIT", exercise)
    result = CliRunner().invoke(
        cli.sandbox_cli,
        [
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--latency-ms",
            "100",
            "--fault",
            "error",
            "--fault-on",
            "schedule",
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen["balance"] == 200
    assert seen["schedule"] == 500
    assert seen["elapsed"] >= 0.1
    assert f"listening on {seen['url']}" in result.output
    assert "username=pointsdesk.till" in result.output
    assert "password=sandbox-pass-123" in result.output
    assert "key=pointsdesk-sandbox-key" in result.output
    assert "fault=error fault_on=schedule" in result.output


@pytest.mark.parametrize(
    "args",
    [["run", "--fault", "explode"], ["run", "--fault-on", "tiers"], ["run", "--latency-ms", "-1"]],
)
def test_run_rejects_bad_options(args: list[str]) -> None:
    result = CliRunner().invoke(cli.sandbox_cli, args)
    assert result.exit_code == 2


def test_register_cli_adds_the_sandbox_group() -> None:
    app = Flask(__name__)
    cli.register_cli(app)
    assert app.cli.get_command(None, "sandbox") is cli.sandbox_cli  # type: ignore[arg-type]
    result = app.test_cli_runner().invoke(args=["sandbox", "run", "--help"])
    assert result.exit_code == 0
    assert "--latency-ms" in result.output


def bare_app(**overrides: object) -> Flask:
    """A Flask app with the project's config defaults, not the dashboard itself."""
    app = Flask(__name__)
    app_clock.init_app(app, FrozenClock(FROZEN_AT))
    app.config.from_object(Defaults)
    app.config.update({"CAPILLARY_PROGRAMS": {}, **overrides})
    return app


def test_start_embedded_fills_unset_config() -> None:
    app = bare_app()
    server = start_embedded(app)
    try:
        assert app.config["CAPILLARY_BASE_URL"] == server.url
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
        assert app.config["CAPILLARY_AUTH"] == "basic"
        assert app.config["CAPILLARY_USERNAME"] == server.username
        assert app.config["CAPILLARY_PASSWORD"] == server.password
        assert app.config["CAPILLARY_PROGRAMS"] == DEMO_PROGRAMS
        assert app.config["CAPILLARY_PROGRAMS"] is not DEMO_PROGRAMS
        assert app.config["CAPILLARY_DEFAULT_PROGRAM"] == DEFAULT_PROGRAM
        assert app.config["CAPILLARY_CLUSTER_TIMEZONE"] == "Asia/Kolkata"
        with requests.Session() as session:
            response = session.get(
                f"{server.url}v2/customers/{MEMBER_DOC_BALANCE}/points/balance",
                headers={"Authorization": basic_header(server.username, server.password)},
                timeout=5,
            )
            assert response.status_code == 200
    finally:
        server.stop()


def test_start_embedded_keeps_what_is_set() -> None:
    app = bare_app(
        CAPILLARY_USERNAME="mine",
        CAPILLARY_PASSWORD="secret",
        CAPILLARY_PROGRAMS={1933: "Partners"},
        CAPILLARY_DEFAULT_PROGRAM=1933,
        CAPILLARY_CLUSTER_TIMEZONE="Europe/London",
    )
    server = start_embedded(app)
    try:
        assert app.config["CAPILLARY_USERNAME"] == "mine"
        assert app.config["CAPILLARY_PASSWORD"] == "secret"
        assert app.config["CAPILLARY_PROGRAMS"] == {1933: "Partners"}
        assert app.config["CAPILLARY_DEFAULT_PROGRAM"] == 1933
        assert app.config["CAPILLARY_CLUSTER_TIMEZONE"] == "Europe/London"
    finally:
        server.stop()


def test_start_embedded_with_oauth_gets_the_sandbox_client() -> None:
    app = bare_app(CAPILLARY_AUTH="oauth")
    server = start_embedded(app)
    try:
        assert app.config["CAPILLARY_AUTH"] == "oauth"
        assert app.config["CAPILLARY_OAUTH_KEY"] == server.oauth_key
        assert app.config["CAPILLARY_OAUTH_SECRET"] == server.oauth_secret
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("moment", "expected_today"),
    [
        # 18:29 UTC is 23:59 in India, 18:30 is already the next day there.
        ("2028-02-28T18:29:00+00:00", "2028-02-28"),
        ("2028-02-28T18:30:00+00:00", "2028-02-29"),
        ("2029-12-31T18:31:00+00:00", "2030-01-01"),
    ],
)
def test_embedded_sandbox_dates_members_from_the_apps_clock(moment, expected_today) -> None:
    app = bare_app()
    app_clock.init_app(app, FrozenClock(datetime.fromisoformat(moment)))
    server = start_embedded(app)
    try:
        assert server.state.today == date.fromisoformat(expected_today)
    finally:
        server.stop()
