"""Helpers shared by the test_capillary_* modules: fast clients, canned bodies, a raw server.

Holds no tests itself; the other modules import it by name (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

from app.capillary import BasicAuth, CapillaryClient
from app.capillary.auth import Auth

USERNAME = "till.one"
PASSWORD = "s3cret-Pa55word"
EMAIL = "ann+loyalty@example.com"
MOBILE = "919876543210"

BALANCE = {
    "entityId": 565039505,
    "entityType": "CUSTOMER",
    "totalPoints": "__8500.000__",
    "mainPoints": "__8500.000__",
    "promisedPoints": "__0.000__",
    "promisedPointsBreakup": {
        "delayedAccrualPoints": "__0.000__",
        "externalTriggerBasedPoints": "__0.000__",
    },
    "warnings": [],
}

SCHEDULE = {
    "entityId": 374844123,
    "entityType": "CUSTOMER",
    "promisedPointsScheduleList": [
        {
            "points": "__390.000__",
            "redeemableFrom": "2022-04-10",
            "programId": 2199,
            "pointsType": "line_item_promotions",
        },
        {
            "points": "__130.500__",
            "redeemableFrom": "2025-12-16",
            "redeemableFromISO": "2025-12-16T14:30:45+05:30",
            "programId": 1933,
            "pointsType": "bill_regular",
            "expiryType": "rolling",
        },
        {
            "points": "__12__",
            "redeemableFromISO": "2025-12-16T14:30:45Z",
            "programId": 2199,
            "pointsType": "bill_regular",
        },
    ],
    "triggerBasedPointsList": [
        {"points": "__300.000__", "programId": 890, "pointsType": "line_item_promotions"}
    ],
    "warnings": [
        {"status": False, "code": 8107, "message": "Default customer status label not set"}
    ],
}


def to_json(body: Any) -> str:
    """JSON text with "__1.000__" markers turned into bare numbers (keeps trailing zeros)."""
    return json.dumps(body).replace('"__', "").replace('__"', "")


# Timeouts for a test whose stand-in never answers (it holds until the test ends), so the
# client's own limits are all that can end the call: short, and no race with an answer.
SHORT = {"connect_timeout": 0.5, "read_timeout": 0.5, "deadline": 1.5}


def fast_client(base_url: str, auth: Auth | None = None, **overrides: Any) -> CapillaryClient:
    """A client for tests: limits far above what a loopback answer needs on a busy machine.

    Only tests of the limits themselves pass shorter ones (SHORT), against stand-ins that
    never answer, so no test races a short timeout against an answer that is on its way.
    """
    settings: dict[str, Any] = {
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
        "deadline": 20.0,
        "retries": 2,
        "max_response_bytes": 1024 * 1024,
    }
    settings.update(overrides)
    return CapillaryClient(base_url, auth or BasicAuth(USERNAME, PASSWORD), **settings)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RawServer:
    """A loopback TCP server running handler(conn, stopped) per connection, each in a thread.

    Handlers that stall should wait on the stopped event, so the test ends promptly.
    """

    def __init__(self, handler: Callable[[socket.socket, threading.Event], None]) -> None:
        self.handler = handler
        self.connections = 0
        self.stopped = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handler(conn, self.stopped)
            except OSError:
                pass  # the client hung up, which is what several tests provoke

    def stop(self) -> None:
        """Stop accepting, let handlers finish, release the socket."""
        self.stopped.set()
        self._accepter.join(2)
        for thread in self._threads:
            thread.join(2)
        self._sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def read_request(conn: socket.socket) -> bytes:
    """Read one request head from a raw connection."""
    conn.settimeout(2)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data
