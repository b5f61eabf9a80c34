"""Stand-ins for servers that fail: a Redis of the test's own it can kill, and a socket
server that accepts connections and never answers until the test lets it go."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HungServer:
    """Accepts every connection, reads what is sent, answers nothing.

    accepted counts connections; wait_for(n) blocks until n have arrived (an event the test
    controls, not a sleep); release() closes them all and refuses the rest.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._held: list[socket.socket] = []
        self._lock = threading.Condition()
        self._released = False
        self._thread = threading.Thread(target=self._accept, name="hung-server", daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self._held)

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Block until count connections were accepted (False if they never came)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._held) >= count, timeout=timeout)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._released:
                    conn.close()
                    continue
                self._held.append(conn)
                self._lock.notify_all()

    def release(self) -> None:
        """Close every held connection (the clients see a reset) and stop listening."""
        with self._lock:
            self._released = True
            held, self._held = self._held, []
        self._listener.close()
        for conn in held:
            conn.close()


@contextmanager
def hung_server() -> Iterator[HungServer]:
    """A HungServer for the length of the block."""
    server = HungServer()
    try:
        yield server
    finally:
        server.release()


class OwnRedis:
    """A redis-server process of this test alone, on a free port; kill() is the outage."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed (apt-get install redis-server)"
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true but {message}")
            pytest.skip(message)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # A server of its own, like the shared Redis: on the real calendar even when the
            # suite runs under faketime (its preload can keep redis-server from starting).
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},
        )
        try:
            self._wait_until_up()
        except BaseException:
            self.kill()  # never leave the process behind, even when a timeout interrupts
            raise

    def _wait_until_up(self) -> None:
        """PING over a plain socket until it answers (bounded: 20 s), no client retries."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail("our own redis-server did not start within 20 s")

    def kill(self) -> None:
        """Stop the process at once (SIGKILL) and wait for it to be gone."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
