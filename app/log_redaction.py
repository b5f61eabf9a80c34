"""Keep members' ids and setup tokens out of every log line that names a request's path.

The member page's path names the member (/members/700000001), a setup link's path carries its
token. Werkzeug's development server logs every request line; Flask logs "Exception on
<path>" and gunicorn "Error handling request <path>" when a request fails; gunicorn's access
log is off for the same reason.
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


# The loggers that write a request's path: werkzeug's request lines, gunicorn's error and
# access logs, and Flask's own (named after the app's package) for an unhandled exception.
PATH_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access", "app")


def install() -> None:
    """Put the filter on every logger that writes request paths, once each."""
    for name in PATH_LOGGERS:
        path_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactMemberPaths) for f in path_logger.filters):
            path_logger.addFilter(RedactMemberPaths())
