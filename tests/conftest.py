"""Shared fixtures: one real sandbox HTTP server per session, an app pointed at it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup

from app import create_app
from app.sandbox.server import SandboxServer, start_sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The embedded stand-in upstream, over real HTTP on a loopback port."""
    server = start_sandbox()
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
    }


@pytest.fixture
def app(sandbox: SandboxServer):
    """An app configured for tests, talking to the session sandbox."""
    return create_app(sandbox_config(sandbox))


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


def normalize_spaces(text: str) -> str:
    """Collapse runs of white space, as the page reader sees them."""
    return re.sub(r"\s+", " ", text).strip()


def soup(response) -> BeautifulSoup:
    """Parse a response body as HTML."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")
