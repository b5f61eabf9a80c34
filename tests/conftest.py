"""Shared fixtures: one real sandbox HTTP server per session, an app pointed at it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.auth.models import StaffUser
from app.clock import FrozenClock
from app.extensions import db
from app.sandbox.server import SandboxServer, start_sandbox

# Shared fixtures that live in modules of their own, registered here so that no test module
# imports another: the fake Capillary (fake_server, fake, agent) and PostgreSQL (pg_server,
# pg_url, pg_app).
pytest_plugins = [
    "tests.support.fake_upstream",
    "tests.support.postgres_fixtures",
    "tests.support.redis_fixtures",
]


def _frozen_moment() -> datetime:
    """The moment every test's clock stands at: POINTS_DESK_TEST_NOW, else the session's start.

    Read once, so the app and the sandbox agree about "today" for the whole run, even when
    the run crosses midnight; under faketime the suite runs at the faked moment.
    """
    raw = os.environ.get("POINTS_DESK_TEST_NOW")
    if raw:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise pytest.UsageError(
                "POINTS_DESK_TEST_NOW needs an offset, e.g. 2028-02-29T18:45+00:00"
            )
        return moment.astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


FROZEN_AT = _frozen_moment()
# The cluster zone the test config gives the app; with no DISPLAY_TIMEZONE it is the zone
# whose date is "today" (app/clock.py).
TEST_ZONE = ZoneInfo("Asia/Kolkata")


def pytest_report_header() -> str:
    return f"frozen clock: {FROZEN_AT.isoformat()} (today in {TEST_ZONE}: {frozen_today()})"


def frozen_today() -> date:
    """What the app and the sandbox call "today" under the test config."""
    return FROZEN_AT.astimezone(TEST_ZONE).date()


@pytest.fixture
def clock() -> FrozenClock:
    """The app's clock for this test: frozen at FROZEN_AT, free to be moved by the test."""
    return FrozenClock(FROZEN_AT)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The embedded stand-in upstream, over real HTTP on a loopback port."""
    server = start_sandbox(clock=FrozenClock(FROZEN_AT), zone=TEST_ZONE)
    yield server
    server.stop()


def sandbox_config(server: SandboxServer) -> dict[str, object]:
    """App config pointing the client at a running sandbox."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "CAPILLARY_BASE_URL": server.url,
        "CAPILLARY_AUTH": "basic",
        "CAPILLARY_USERNAME": server.username,
        "CAPILLARY_PASSWORD": server.password,
        "CAPILLARY_PROGRAMS": {2199: "Gold Club", 1933: "Partner Rewards", 890: "Fuel Rewards"},
        "CAPILLARY_DEFAULT_PROGRAM": 2199,
        "CAPILLARY_CLUSTER_TIMEZONE": "Asia/Kolkata",
        # An in-memory database unless a fixture gives a file (the `app` fixture does), so
        # an app built straight from this never touches instance/.
        "DATABASE_URL": "sqlite://",
        # Cheap hashing: tests create and sign in users constantly.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture
def upstream(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The session sandbox with no faults, no latency and an empty request log."""
    sandbox.reset()
    yield sandbox
    sandbox.reset()


TEST_PASSWORD = "correct horse battery staple"
AGENT = "agent.alice"
ADMIN = "admin.bob"


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer) -> Path:
    """A SQLite file whose schema was made by running the real migrations, once."""
    path = tmp_path_factory.mktemp("schema") / "migrated.sqlite3"
    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return path


def add_staff(username: str, role: str = "agent", password: str = TEST_PASSWORD) -> StaffUser:
    """Create a staff account (inside an app context)."""
    from flask import current_app

    user = StaffUser(username=username, role=role, active=True, session_version=0)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client: FlaskClient, username: str, password: str = TEST_PASSWORD) -> FlaskClient:
    """Sign the client in through the real login form."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"sign-in as {username} failed"
    return client


@pytest.fixture
def make_app(
    sandbox: SandboxServer, migrated_db: Path, tmp_path: Path, clock: FrozenClock
) -> Iterator[Callable[..., Flask]]:
    """Build apps with config overrides, each on the test's clock with its own database
    holding one agent (AGENT) and one admin (ADMIN)."""
    apps: list[Flask] = []

    def build(**overrides: object) -> Flask:
        db_path = tmp_path / f"points-desk-{len(apps)}.sqlite3"
        shutil.copyfile(migrated_db, db_path)
        config = {**sandbox_config(sandbox), "DATABASE_URL": f"sqlite:///{db_path}", **overrides}
        built = create_app(config, clock=clock)
        apps.append(built)
        with built.app_context():
            add_staff(AGENT, "agent")
            add_staff(ADMIN, "admin")
        return built

    yield build
    for built in apps:
        with built.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app talking to the session sandbox, with AGENT and ADMIN in its own database."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask test client, signed in as an agent."""
    return sign_in(app.test_client(), AGENT)


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    """Flask test client, signed in as an admin."""
    return sign_in(app.test_client(), ADMIN)


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    """Flask test client, not signed in."""
    return app.test_client()


def normalize_spaces(text: str) -> str:
    """Collapse runs of white space, as the page reader sees them."""
    return re.sub(r"\s+", " ", text).strip()


def soup(response) -> BeautifulSoup:
    """Parse a response body as HTML."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def make_client(make_app: Callable[..., Flask]) -> Callable[..., FlaskClient]:
    """Build an app with config overrides; return a client signed in as an agent.

    Signs in through the login form, CSRF token included when the overrides turn CSRF on.
    """

    def make(**overrides: object) -> FlaskClient:
        client = make_app(**overrides).test_client()
        token = soup(client.get("/login")).select_one("input[name=csrf_token]")
        data = {"username": AGENT, "password": TEST_PASSWORD}
        if token is not None:
            data["csrf_token"] = token["value"]
        assert client.post("/login", data=data).status_code == 302
        return client

    return make
