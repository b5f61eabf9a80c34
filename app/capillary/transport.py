"""HTTP plumbing for the upstream: pooled per-thread sessions, retries, timeouts and a deadline.

This is the only module that touches requests/urllib3. It returns the raw status, body and
request id of one call and turns every transport failure into a typed CapillaryError whose
text never repeats the library's own message (that message carries the full URL, query string
included, and so the member's identifier).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from app.capillary.errors import (
    CapillaryError,
    MalformedResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)

logger = logging.getLogger(__name__)

# Statuses worth another attempt: the docs say retry 461 (search busy), 521 (another action
# running for the member) and 503 (authorization status unavailable); 502/504 are gateway
# blips. 500 is not retried: the docs call it "failed", and repeating it only adds load.
RETRY_STATUSES = frozenset({461, 502, 503, 504, 521})
# Small, capped backoff (0.1, 0.2, 0.4, 0.5 s...): a dashboard user is waiting. Retry-After
# is never honoured: "Retry-After: 3600" must not park a staff member's request for an hour.
BACKOFF_FACTOR = 0.1
BACKOFF_MAX = 0.5
# No new attempt starts with less than this left of the call deadline: it could only time
# out, and the answer already in hand says more than "timed out" would.
MIN_ATTEMPT_SECONDS = 0.1
# Read the body in modest pieces so the deadline and the size cap are checked often.
CHUNK_BYTES = 16 * 1024
REQUEST_ID_HEADER = "X-Cap-Requestid"
BASE_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "points-desk/0.1",
}


_CUSTOMER_ID_IN_PATH = re.compile(r"/customers/\d+")


class RedactQueryStrings(logging.Filter):
    """Cut query strings (and customer ids in paths) out of urllib3's own DEBUG lines, which
    print the request URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            args = record.args
            record.args = tuple(_redact(arg) if isinstance(arg, str) else arg for arg in args)
        return True


def _redact(text: str) -> str:
    if "?" in text:
        text = text.split("?", 1)[0] + "?[query redacted]"
    return _CUSTOMER_ID_IN_PATH.sub("/customers/{id}", text)


def _guard_library_logs() -> None:
    """Install the redacting filter once on the urllib3 loggers that print URLs."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        library_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryStrings) for f in library_logger.filters):
            library_logger.addFilter(RedactQueryStrings())


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One upstream answer as received: status, decoded body bytes and the request id."""

    status: int
    body: bytes
    request_id: str | None
    label: str


class BlockAllCookies(CookiePolicy):
    """Keep no cookies: the API is stateless, and a stored cookie could leak between calls."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def retryable_status(raw: RawResponse) -> bool:
    """The default retry test for an answer: its HTTP status alone."""
    return raw.status in RETRY_STATUSES


def no_library_retries() -> Retry:
    """urllib3 makes exactly one attempt per request; Transport.send does the retrying.

    urllib3's own retries would compute each attempt's timeouts once, before the first one,
    so an attempt started just before the call deadline could run a full read timeout past it.
    """
    return Retry(total=0, redirect=0, raise_on_redirect=False, raise_on_status=False)


class Transport:
    """Sends requests to one base URL; thread-safe by giving each thread its own Session."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        deadline: float,
        retries: int,
        max_response_bytes: int,
        session_factory: Callable[[], requests.Session] = requests.Session,
    ) -> None:
        self.base_url = base_url
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self._session_factory = session_factory
        # Proxy settings are read from the environment once, not on every call: requests'
        # trust_env re-scans os.environ and looks for ~/.netrc per request, and a netrc
        # entry for the upstream host would replace our Authorization header.
        self._proxies = requests.utils.get_environ_proxies(base_url)
        _guard_library_logs()
        self._local = threading.local()
        self._lock = threading.Lock()
        # Every session made, with its thread, so close() and dead threads can release sockets.
        self._sessions: list[tuple[weakref.ref[threading.Thread], requests.Session]] = []

    def deadline_from_now(self) -> float:
        """The monotonic time by which a call starting now must have finished."""
        return time.monotonic() + self.deadline

    def send(
        self,
        method: str,
        path: str,
        *,
        label: str,
        deadline_at: float,
        params: Sequence[tuple[str, str]] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_if: Callable[[RawResponse], bool] = retryable_status,
    ) -> RawResponse:
        """Make one call and read the whole body, retrying a GET within the call deadline.

        A GET is tried up to 1 + retries times: again after a connection failure or a read
        timeout, or when retry_if says the answer is a "try again later". Every attempt's
        connect and read timeouts are capped by what is left of the deadline.
        """
        attempts = 1 + self.retries if method == "GET" else 1
        attempt = 1
        while True:
            try:
                raw = self._attempt(
                    method, path, label, deadline_at, params, json_body, headers or {}
                )
            except _RetryableFailure as failure:
                if attempt >= attempts or not self._pause(attempt, deadline_at):
                    raise failure.error from failure.__cause__
                logger.info("%s %s; trying again", method, failure.error.message)
            else:
                if attempt >= attempts or not retry_if(raw):
                    return raw
                if not self._pause(attempt, deadline_at):
                    return raw
                logger.info(
                    "%s %s: HTTP %s, a retryable answer; trying again", method, label, raw.status
                )
            attempt += 1

    def _pause(self, attempt: int, deadline_at: float) -> bool:
        """Sleep before attempt + 1; False (and no sleep) when the deadline leaves no room."""
        pause = min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (attempt - 1))
        if deadline_at - time.monotonic() - pause < MIN_ATTEMPT_SECONDS:
            return False
        time.sleep(pause)
        return True

    def _attempt(
        self,
        method: str,
        path: str,
        label: str,
        deadline_at: float,
        params: Sequence[tuple[str, str]] | None,
        json_body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> RawResponse:
        """One request and its body, with timeouts capped by what is left of the deadline."""
        started = time.monotonic()
        remaining = deadline_at - started
        if remaining <= 0:
            raise UpstreamTimeout(f"{label}: call deadline passed before sending")
        session = self._session()
        # (connect, read): connect a little over 3 s (the TCP SYN retransmit window), read
        # generous for a "light" API; both capped by what is left of the call deadline.
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            response = session.request(
                method,
                self.base_url + path,
                params=list(params or ()),
                json=json_body,
                headers={**BASE_HEADERS, **headers},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            error = _transport_error(exc, label, deadline_at)
            if _worth_another_attempt(exc):
                raise _RetryableFailure(error) from exc
            raise error from exc
        try:
            request_id = response.headers.get(REQUEST_ID_HEADER)
            body = self._read_body(response, label, deadline_at, request_id)
        finally:
            response.close()
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug(
            "%s %s -> %s in %.0f ms (request id %s)",
            method,
            label,
            response.status_code,
            elapsed_ms,
            request_id,
        )
        return RawResponse(response.status_code, body, request_id, label)

    def close(self) -> None:
        """Close every session this transport opened, in whichever thread."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
            self._local = threading.local()
        for _, session in sessions:
            session.close()

    def _session(self) -> requests.Session:
        local = self._local
        session = getattr(local, "session", None)
        if session is None:
            session = self._new_session()
            local.session = session
        return session

    def _new_session(self) -> requests.Session:
        session = self._session_factory()
        session.trust_env = False
        session.proxies.update(self._proxies)
        session.cookies.set_policy(BlockAllCookies())
        adapter = HTTPAdapter(max_retries=no_library_retries())
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        with self._lock:
            # A server that spawns a thread per request would otherwise leave one session
            # (and its sockets) behind per request: close those of threads that have ended.
            alive, dead = [], []
            for entry in self._sessions:
                thread = entry[0]()
                (alive if thread is not None and thread.is_alive() else dead).append(entry)
            alive.append((weakref.ref(threading.current_thread()), session))
            self._sessions = alive
        for _, old in dead:
            old.close()
        return session

    def _read_body(
        self,
        response: requests.Response,
        label: str,
        deadline_at: float,
        request_id: str | None,
    ) -> bytes:
        """Read the body in chunks, enforcing the call deadline and the decoded-size cap."""
        status = response.status_code
        declared = response.headers.get("Content-Length", "")
        encoded = response.headers.get("Content-Encoding", "identity").lower()
        if declared.isdigit() and encoded == "identity":
            if int(declared) > self.max_response_bytes:
                raise MalformedResponse(
                    f"{label}: response of {declared} bytes exceeds the "
                    f"{self.max_response_bytes}-byte limit",
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
                _cap_socket_timeout(raw, min(self.read_timeout, remaining))
                # read1 returns what has arrived (at most CHUNK_BYTES once decoded), so a
                # slow drip cannot hold one read open past the deadline and a gzip bomb is
                # inflated only a chunk at a time.
                chunk = raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise MalformedResponse(
                        f"{label}: response exceeds the {self.max_response_bytes}-byte limit",
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


def _cap_socket_timeout(raw: Any, seconds: float) -> None:
    """Shorten the socket's read timeout to what is left of the deadline, if reachable."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.001))
        except OSError:
            pass  # the socket is closing; the next read reports it


class _RetryableFailure(Exception):
    """An attempt failed in a way another attempt might not: carries the error to report."""

    def __init__(self, error: CapillaryError) -> None:
        super().__init__(error.message)
        self.error = error


def _worth_another_attempt(exc: requests.RequestException) -> bool:
    """Connection failures and timeouts may pass; a TLS failure or a bad request will not."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def _transport_error(
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
