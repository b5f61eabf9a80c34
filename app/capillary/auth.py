"""The two documented ways to sign upstream calls: till Basic auth and OAuth tokens."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.capillary.envelope import decode_json, parse_warnings
from app.capillary.errors import (
    AccessDenied,
    CapillaryError,
    MalformedResponse,
    UpstreamMisconfigured,
    UpstreamUnavailable,
    is_misconfigured_status,
)
from app.capillary.models import UpstreamMessage
from app.capillary.transport import RawResponse

logger = logging.getLogger(__name__)

TOKEN_PATH = "v3/oauth/token/generate"  # noqa: S105 (a path, not a secret)
TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"  # noqa: S105 (a header name)
# Refresh when less than min(30 s, 10% of the lifetime) is left, so a token never expires
# between our check and the upstream's.
REFRESH_MARGIN_SECONDS = 30.0
REFRESH_MARGIN_FRACTION = 0.1

# POSTs a JSON body to a path under the base URL, unauthenticated; the client supplies it.
TokenPoster = Callable[[str, Mapping[str, Any]], RawResponse]


class Auth(ABC):
    """How a call is signed: headers to add, and whether a 401 deserves one fresh attempt."""

    @abstractmethod
    def headers(self, post: TokenPoster) -> dict[str, str]:
        """Headers that authenticate one call (may fetch a credential through post)."""

    def invalidate(self, used: Mapping[str, str]) -> bool:
        """Forget the credential in used after a 401; True when a retry could succeed."""
        return False


def password_md5(password: str) -> str:
    """The lowercase md5 hex digest of a till password, as Basic auth wants it."""
    # md5 is the upstream's choice, not ours; it protects nothing on our side.
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()


def is_md5_hex(text: str) -> bool:
    """Whether text is an md5 hex digest: 32 hexadecimal characters."""
    return len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text)


def basic_header_value(username: str, password_md5_hex: str) -> str:
    """The Authorization value: "Basic " + base64(username + ":" + md5hex(password))."""
    token = base64.b64encode(f"{username}:{password_md5_hex}".encode()).decode("ascii")
    return f"Basic {token}"


class BasicAuth(Auth):
    """Till credentials: Basic base64(username:md5hex(password)), as the docs specify."""

    def __init__(self, username: str, password: str) -> None:
        self._header = basic_header_value(username, password_md5(password))
        self.username = username

    @classmethod
    def from_md5(cls, username: str, md5_hex: str) -> BasicAuth:
        """For a password already hashed (CAPILLARY_PASSWORD_MD5): its md5 hex, used as is."""
        digest = md5_hex.strip().lower()
        if not is_md5_hex(digest):
            raise ValueError("an MD5 password is 32 hexadecimal characters")
        made = cls.__new__(cls)
        made._header = basic_header_value(username, digest)
        made.username = username
        return made

    def headers(self, post: TokenPoster) -> dict[str, str]:
        """The fixed Authorization header."""
        return {"Authorization": self._header}

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r})"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: float


class OAuthAuth(Auth):
    """OAuth client key/secret: a cached token, fetched one at a time, refreshed before expiry."""

    def __init__(
        self, key: str, secret: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.key = key
        self._secret = secret
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def headers(self, post: TokenPoster) -> dict[str, str]:
        """The token header, fetching a token first when none is cached or it is nearly out."""
        return {TOKEN_HEADER: self._current(post)}

    def invalidate(self, used: Mapping[str, str]) -> bool:
        """Drop the cached token if it is the one that was refused; always worth one retry."""
        with self._lock:
            if self._token is not None and self._token.value == used.get(TOKEN_HEADER):
                self._token = None
        return True

    def _current(self, post: TokenPoster) -> str:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        with self._lock:
            # Another thread may have fetched while this one waited for the lock.
            token = self._token
            if token is None or self._clock() >= token.refresh_at:
                token = self._fetch(post)
                self._token = token
            return token.value

    def _fetch(self, post: TokenPoster) -> _Token:
        started = self._clock()
        # Transport failures (unreachable, timeout) propagate as they are: they are not an
        # access problem, and staff should read "unavailable", not "denied".
        raw = post(TOKEN_PATH, {"key": self.key, "secret": self._secret})
        value, ttl = _read_token(raw)
        margin = min(REFRESH_MARGIN_SECONDS, REFRESH_MARGIN_FRACTION * ttl)
        logger.info("Fetched an OAuth token valid for %d s", ttl)
        return _Token(value=value, refresh_at=started + ttl - margin)

    def __repr__(self) -> str:
        return f"OAuthAuth(key={self.key!r})"


def _read_token(raw: RawResponse) -> tuple[str, float]:
    """The accessToken and ttlSeconds of a token answer; anything else is refused."""
    code: int | None = None
    try:
        body = decode_json(raw)
    except MalformedResponse:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = parse_warnings(errors[:1], raw)[0] if isinstance(errors[0], dict) else None
            code = first.code if isinstance(first, UpstreamMessage) else None
    data = body.get("data") if isinstance(body, dict) else None
    if 200 <= raw.status < 300 and code is None and isinstance(data, dict):
        value = data.get("accessToken")
        ttl = data.get("ttlSeconds")
        if (
            isinstance(value, str)
            and value
            and not isinstance(ttl, bool)
            and isinstance(ttl, int | Decimal)
            and 0 < ttl < 10**9
        ):
            return value, float(ttl)
    raise _denied(raw, code)


def _denied(raw: RawResponse, code: int | None) -> CapillaryError:
    detail = f"HTTP {raw.status}" + (f", code {code}" if code is not None else "")
    # A 5xx is the token service being down, not our key being refused: say "unavailable";
    # a 404/405/415 with no code is a wrong address, not a refused key.
    cls: type[CapillaryError] = AccessDenied
    if raw.status >= 500:
        cls = UpstreamUnavailable
    elif code is None and is_misconfigured_status(raw.status):
        cls = UpstreamMisconfigured
    return cls(
        f"Failed to generate OAuth token ({detail})",
        code=code,
        status=raw.status,
        request_id=raw.request_id,
    )
