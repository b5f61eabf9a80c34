"""Keep members' ids out of the development server's request log.

The member page's path names the member (/members/700000001), and werkzeug's development
server logs every request line; gunicorn's access log is off for the same reason.
"""

from __future__ import annotations

import logging
import re

_MEMBER_PATH = re.compile(r"/members/\d+")
# A password-setup link's token is a credential until it is used.
_SETUP_PATH = re.compile(r"/welcome/[^\s/?\"]+")


def _redact(text: str) -> str:
    return _SETUP_PATH.sub("/welcome/{token}", _MEMBER_PATH.sub("/members/{id}", text))


class RedactMemberPaths(logging.Filter):
    """Replace the member id in logged paths with {id}, a setup token with {token}."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _redact(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install() -> None:
    """Put the filter on werkzeug's request logger, once."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactMemberPaths) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(RedactMemberPaths())
