"""Proxy mode: an identity header sent more than once is refused, not merged.

WSGI servers join a repeated header into one comma-separated value, so by the time the app
sees "X-Forwarded-Groups: staff,pd-admins" it cannot tell that a client added the second
line next to the proxy's (a proxy that appends instead of replacing lets it through).
gunicorn's pre_request hook (gunicorn.conf.py) still sees the raw header lines: it calls
mark_repeated(), which adds REPEATED_HEADER when an identity header repeats; the app then
refuses the request (403). A client cannot forge the mark away: any copy it sends is
dropped first, and one it adds itself only gets its own request refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

REPEATED_HEADER = "X-Points-Desk-Repeated-Identity"
# The key under which the WSGI environ carries it.
REPEATED_ENVIRON_KEY = "HTTP_" + REPEATED_HEADER.upper().replace("-", "_")
DEFAULT_NAMES = ("X-Forwarded-User", "X-Forwarded-Groups")


def identity_header_names(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The user and groups header names the app is configured to trust."""
    return tuple(
        str(config.get(key) or default)
        for key, default in zip(
            ("AUTH_PROXY_USER_HEADER", "AUTH_PROXY_GROUPS_HEADER"), DEFAULT_NAMES, strict=True
        )
    )


def mark_repeated(headers: list[tuple[str, str]], names: Iterable[str]) -> list[tuple[str, str]]:
    """The raw header lines, without any client-sent mark, plus the mark when one of the
    identity headers appears more than once."""
    watched = {name.upper() for name in names}
    kept = [(name, value) for name, value in headers if name.upper() != REPEATED_HEADER.upper()]
    counts = Counter(name.upper() for name, _ in kept if name.upper() in watched)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        kept.append((REPEATED_HEADER.upper(), ",".join(repeated)))
    return kept


def is_marked(environ: Mapping[str, Any]) -> bool:
    """Whether the server marked this request as carrying a repeated identity header."""
    return REPEATED_ENVIRON_KEY in environ
