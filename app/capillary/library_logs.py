"""urllib3 prints request URLs (query strings with members' identifiers) at DEBUG: redact them."""

from __future__ import annotations

import logging
import re

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


def guard_library_logs() -> None:
    """Install the redacting filter once on the urllib3 loggers that print URLs."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        library_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryStrings) for f in library_logger.filters):
            library_logger.addFilter(RedactQueryStrings())
