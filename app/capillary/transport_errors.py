"""requests' failures as the client's typed errors, and which of them deserve another attempt."""

from __future__ import annotations

import time

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from app.capillary.errors import CapillaryError, UpstreamTimeout, UpstreamUnavailable


def worth_another_attempt(exc: requests.RequestException) -> bool:
    """Connection failures and timeouts may pass; a TLS failure or a bad request will not."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def transport_error(
    exc: requests.RequestException, label: str, deadline_at: float | None = None
) -> CapillaryError:
    """Map a requests failure to a typed error; never reuse its text (it holds the URL)."""
    reason: BaseException | None = exc
    # requests wraps urllib3's MaxRetryError, which names the last underlying failure.
    if exc.args and isinstance(exc.args[0], MaxRetryError):
        reason = exc.args[0].reason
    elif exc.args and isinstance(exc.args[0], BaseException):
        reason = exc.args[0]
    if isinstance(reason, NameResolutionError):
        return UpstreamUnavailable(f"{label}: upstream host name could not be resolved")
    if isinstance(reason, NewConnectionError):
        return UpstreamUnavailable(f"{label}: connection refused or unreachable")
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
        return UpstreamTimeout(f"{label}: connect timed out")
    if isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
        # The read timeout is capped by the deadline, so say which one ran out.
        if deadline_at is not None and time.monotonic() >= deadline_at - 0.01:
            return UpstreamTimeout(f"{label}: read timed out at the call deadline")
        return UpstreamTimeout(f"{label}: read timed out")
    if isinstance(exc, requests.exceptions.SSLError):
        return UpstreamUnavailable(f"{label}: TLS handshake failed")
    if isinstance(reason, ProtocolError) or isinstance(exc, requests.ConnectionError):
        return UpstreamUnavailable(f"{label}: connection reset or closed by the upstream")
    return UpstreamUnavailable(f"{label}: request failed ({type(exc).__name__})")
