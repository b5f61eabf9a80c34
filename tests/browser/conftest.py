"""Browser fixtures: the real app served over HTTP, and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work here, so it drives the `chromium` package
(apt-get install chromium). Without it these tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.clock import FrozenClock
from app.extensions import db
from app.sandbox.server import SandboxServer
from tests.conftest import ADMIN, AGENT, FROZEN_AT, TEST_PASSWORD, add_staff, sandbox_config
from tests.support.lookup_helpers import LABEL_WARNING, MERGED_WARNING, warnings_of

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
INSTALL_HINT = "install it with `apt-get install chromium` (or set CHROMIUM_PATH)"
# Without the background-networking switches Chromium keeps calling home, which floods a
# closed network with failing requests and slows every test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# The live app, for making staff: each test signs in as an agent of its own, because the
# lookup form starts on that staff member's last program (app/lookup/recent.last_program).
_LIVE: dict[str, Flask] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser carries the `browser` marker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = f"Chromium not found at {CHROMIUM}: {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class LiveServer:
    """The app under test, served on a loopback port."""

    app: Flask
    url: str

    def path(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(
    sandbox: SandboxServer, migrated_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real app with CSRF on and its own migrated database, in a daemon thread."""
    db_path = tmp_path_factory.mktemp("live") / "points-desk.sqlite3"
    shutil.copyfile(migrated_db, db_path)
    config = {
        **sandbox_config(sandbox),
        "DATABASE_URL": f"sqlite:///{db_path}",
        "WTF_CSRF_ENABLED": True,
    }
    # The sandbox's clock: "today", "in N days" and the dates agree with frozen_today().
    app = create_app(config, clock=FrozenClock(FROZEN_AT))
    with app.app_context():
        add_staff(AGENT, "agent")
        add_staff(ADMIN, "admin")
    # One access-log line per request would bury the failures in the output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The tests import this file as tests.browser.conftest, pytest as a conftest of its own:
    # sign_in() reads the app from the former.
    importlib.import_module("tests.browser.conftest")._LIVE["app"] = app
    server = make_server("127.0.0.1", 0, _whole_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.engine.dispose()


def _whole_bodies(app: Flask) -> Callable:
    """The app with each response body read whole, and closed, before it is sent.

    Werkzeug's development server closes a response (a static file's, say) only after
    draining the request socket, and when the browser has reset the connection by then
    (a page left while its script loads), the close is skipped: the open file is found
    later by the garbage collector, in whatever test runs then, as an unraisable warning.
    """

    def served(environ: dict, start_response: Callable) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return served


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium for the whole session."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with _outside_faketime(), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@contextmanager
def _outside_faketime() -> Iterator[None]:
    """Start the Playwright driver (and so Chromium) without libfaketime's preload.

    Under .ci/anyday only the server's calendar is faked: the browser is a client on a staff
    machine, and libfaketime stops the driver's and Chromium's timers from firing.
    """
    saved = {name: os.environ.pop(name) for name in ("LD_PRELOAD",) if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest.fixture
def new_context(browser, live_server: LiveServer, upstream: SandboxServer) -> Iterator[Callable]:
    """Make fresh browser contexts (own cookies) for this test; all closed at the end."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", LAPTOP)
        options.setdefault("base_url", live_server.url)
        context = browser.new_context(**options)
        # Limits against a hang, not speed targets: a page of 480 dates over 7 upstream calls
        # can take more than 10 s on a loaded 2-core machine under a faked calendar.
        context.set_default_timeout(20_000)
        context.set_default_navigation_timeout(30_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh context, not signed in."""
    return new_context().new_page()


def fresh_agent() -> str:
    """A new agent account, with no lookups (and so no last program) of its own yet."""
    username = f"{AGENT}-{uuid.uuid4().hex[:8]}"
    with importlib.import_module("tests.browser.conftest")._LIVE["app"].app_context():
        add_staff(username, "agent")
    return username


def sign_in(page, username: str | None = None, password: str = TEST_PASSWORD) -> str:
    """Sign in through the login form, as a person would (by default as a fresh agent)."""
    username = username or fresh_agent()
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Look up a member").wait_for()
    return username


@pytest.fixture
def agent_page(page):
    """A page signed in as the agent, on the lookup form."""
    sign_in(page)
    return page


@pytest.fixture
def admin_page(page):
    """A page signed in as the admin."""
    sign_in(page, ADMIN)
    return page


@pytest.fixture(autouse=True)
def warnings_member(sandbox: SandboxServer) -> Iterator[None]:
    """Member 700000003 is the pages' example of upstream warnings beside figures: give it
    documented warnings that leave the figures standing (8069 "Merged customer found",
    8107). 91001 is not one: it fails the call (capillary-api.md 7.1)."""
    with warnings_of(sandbox, 700000003, MERGED_WARNING, LABEL_WARNING):
        yield
