"""Run the stand-in upstream on its own, for the benchmark: `python -m bench.sandbox_main`.

Like `flask sandbox run`, without building the dashboard app around it (which would need
its secrets and start a second, embedded sandbox). Stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from app.sandbox.server import start_sandbox


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox, print its URL and credentials as one line, wait for a signal."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = start_sandbox(port=args.port, latency=args.latency_ms / 1000)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sys.stdout.write(f"{server.url} {server.username} {server.password}\n")
    sys.stdout.flush()
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
