"""Checking the two documented credentials: Basic till login and the OAuth token header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from app.sandbox.state import SandboxState

OAUTH_HEADER = "X-CAP-API-OAUTH-TOKEN"
AUTH_FAILED_BODY = {
    "warnings": [],
    "errors": [{"status": False, "code": 401, "message": "Authentication failed"}],
}
OAUTH_FAILED_BODY = {
    "data": None,
    "errors": [{"status": False, "code": 401, "message": "Failed to generate OAuth token"}],
}


def md5_hex(password: str) -> str:
    """The password digest the Basic header carries instead of the password (docs 3.1)."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def basic_header(username: str, password: str) -> str:
    """The Authorization header value for a till login, as a client must build it."""
    raw = f"{username}:{md5_hex(password)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def authenticated(headers: Mapping[str, str], state: SandboxState) -> bool:
    """Whether the request carries an accepted Basic login or an unexpired OAuth token."""
    token = headers.get(OAUTH_HEADER)
    if token:
        return state.token_valid(token)
    return _basic_ok(headers.get("Authorization", ""), state)


def _basic_ok(header: str, state: SandboxState) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, sep, digest = decoded.partition(":")
    if not sep:
        return False
    # Constant-time comparisons, as a real server would do; the digest is lower-case hex.
    user_ok = hmac.compare_digest(username.encode(), state.username.encode())
    digest_ok = hmac.compare_digest(digest.lower().encode(), md5_hex(state.password).encode())
    return user_ok and digest_ok


def oauth_credentials_ok(key: object, secret: object, state: SandboxState) -> bool:
    """Whether a token request's key and secret are the sandbox's."""
    if not isinstance(key, str) or not isinstance(secret, str):
        return False
    key_ok = hmac.compare_digest(key.encode(), state.oauth_key.encode())
    secret_ok = hmac.compare_digest(secret.encode(), state.oauth_secret.encode())
    return key_ok and secret_ok
