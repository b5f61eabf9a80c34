"""Run the stand-in upstream on its own, for the benchmark: `python -m bench.sandbox_main`.

Like `flask sandbox run`, without building the dashboard app around it (which would need
its secrets and start a second, embedded sandbox). Reads lines on stdin: "latency <ms>"
changes the injected latency, "fault <mode> <target> <seconds>" injects a fault (e.g.
"fault slow schedule 60": every schedule call hangs for a minute), "fault none" clears it.
Stops when stdin closes or on SIGTERM.
"""

from __future__ import annotations

import argparse
import gc
import sys

from app.sandbox.server import start_sandbox


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox, print its URL and credentials as one line, obey stdin until EOF."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = start_sandbox(port=args.port, latency=args.latency_ms / 1000)
    # It stands in for a remote upstream, so keep its CPU use low on the shared machine:
    # its start-up objects need no garbage collection.
    gc.collect()
    gc.freeze()
    sys.stdout.write(f"{server.url} {server.username} {server.password}\n")
    sys.stdout.flush()
    try:
        for line in sys.stdin:
            words = line.split()
            if len(words) == 2 and words[0] == "latency":
                server.configure(latency=float(words[1]) / 1000)
            elif words == ["fault", "none"]:
                server.configure(fault=None, fault_on=None)
            elif len(words) == 4 and words[0] == "fault":
                server.configure(fault=words[1], fault_on=words[2], slow_seconds=float(words[3]))
            else:
                continue
            sys.stdout.write("ok\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
