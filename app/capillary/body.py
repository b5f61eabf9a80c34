"""Reading one answer's body: in chunks, within the call deadline and the decoded-size cap."""

from __future__ import annotations

import time
from typing import Any

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from app.capillary.errors import MalformedResponse, UpstreamTimeout, UpstreamUnavailable

# Read the body in modest pieces so the deadline and the size cap are checked often.
CHUNK_BYTES = 16 * 1024


def read_body(
    response: requests.Response,
    label: str,
    deadline_at: float,
    request_id: str | None,
    *,
    read_timeout: float,
    max_bytes: int,
) -> bytes:
    """Read the body in chunks, enforcing the call deadline and the decoded-size cap."""
    status = response.status_code
    declared = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity").lower()
    if declared.isdigit() and encoded == "identity":
        if int(declared) > max_bytes:
            raise MalformedResponse(
                f"{label}: response of {declared} bytes exceeds the {max_bytes}-byte limit",
                status=status,
                request_id=request_id,
            )
    raw = response.raw
    parts: list[bytes] = []
    size = 0
    try:
        while True:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise UpstreamTimeout(
                    f"{label}: call deadline passed while reading the response",
                    status=status,
                    request_id=request_id,
                )
            cap_socket_timeout(raw, min(read_timeout, remaining))
            # read1 returns what has arrived (at most CHUNK_BYTES once decoded), so a
            # slow drip cannot hold one read open past the deadline and a gzip bomb is
            # inflated only a chunk at a time.
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise MalformedResponse(
                    f"{label}: response exceeds the {max_bytes}-byte limit",
                    status=status,
                    request_id=request_id,
                )
            parts.append(chunk)
    except (ReadTimeoutError, Urllib3Timeout) as exc:
        # The socket timeout is capped by the deadline, so say which one ran out.
        out = "call deadline passed" if time.monotonic() >= deadline_at - 0.01 else "timed out"
        raise UpstreamTimeout(
            f"{label}: {out} while reading the response", status=status, request_id=request_id
        ) from exc
    except DecodeError as exc:
        raise MalformedResponse(
            f"{label}: response content-encoding could not be decoded",
            status=status,
            request_id=request_id,
        ) from exc
    except ProtocolError as exc:
        # The connection ended before the declared length or mid-chunk: the body we have
        # is truncated, so it cannot be read as the documented JSON.
        raise MalformedResponse(
            f"{label}: response truncated (connection closed early)",
            status=status,
            request_id=request_id,
        ) from exc
    except (Urllib3Error, OSError) as exc:
        raise UpstreamUnavailable(
            f"{label}: connection failed while reading the response",
            status=status,
            request_id=request_id,
        ) from exc
    return b"".join(parts)


def cap_socket_timeout(raw: Any, seconds: float) -> None:
    """Shorten the socket's read timeout to what is left of the deadline, if reachable."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.001))
        except OSError:
            pass  # the socket is closing; the next read reports it
