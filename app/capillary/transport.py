"""HTTP plumbing for the upstream: pooled per-thread sessions, retries, timeouts and a deadline.

With body.py (reading an answer within the deadline and size cap), transport_errors.py
(requests' failures as typed errors) and library_logs.py (urllib3's URLs kept out of logs),
the only code that touches requests/urllib3. It returns the raw status, body and request id
of one call; no error text repeats the library's own message (that carries the full URL,
query string included, and so the member's identifier).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from app.capillary.body import read_body
from app.capillary.errors import CapillaryError, UpstreamTimeout
from app.capillary.library_logs import guard_library_logs
from app.capillary.policy import RETRY_POLICY
from app.capillary.transport_errors import transport_error, worth_another_attempt

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Cap-Requestid"
BASE_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "points-desk/0.1",
}


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One upstream answer as received: status, decoded body bytes and the request id."""

    status: int
    body: bytes
    request_id: str | None
    label: str
    # The Retry-After header as sent (a "too many requests" says how long to stay away).
    retry_after: str | None = None
    # The Content-Type header as sent: a CDN's HTML page is not the API's answer.
    content_type: str | None = None
    # Rate-limit headers (X-RateLimit-*, RateLimit-*), as sent: the docs name none.
    rate_limit_headers: tuple[tuple[str, str], ...] = ()
    # How long the attempt took, sending to the last byte read.
    elapsed_ms: float = 0.0


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
    return raw.status in RETRY_POLICY.statuses


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
        guard_library_logs()
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
        pause = RETRY_POLICY.pause_before(attempt)
        if deadline_at - time.monotonic() - pause < RETRY_POLICY.min_attempt_seconds:
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
            error = transport_error(exc, label, deadline_at)
            if worth_another_attempt(exc):
                raise _RetryableFailure(error) from exc
            raise error from exc
        try:
            request_id = response.headers.get(REQUEST_ID_HEADER)
            body = read_body(
                response,
                label,
                deadline_at,
                request_id,
                read_timeout=self.read_timeout,
                max_bytes=self.max_response_bytes,
            )
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
        return RawResponse(
            response.status_code,
            body,
            request_id,
            label,
            retry_after=response.headers.get("Retry-After"),
            content_type=response.headers.get("Content-Type"),
            rate_limit_headers=tuple(
                (name, value)
                for name, value in response.headers.items()
                if "ratelimit" in name.lower().replace("-", "")
            ),
            elapsed_ms=elapsed_ms,
        )

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


class _RetryableFailure(Exception):
    """An attempt failed in a way another attempt might not: carries the error to report."""

    def __init__(self, error: CapillaryError) -> None:
        super().__init__(error.message)
        self.error = error
