"""Error pages: friendly text, the right status, never a stack trace."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.capillary import CapillaryError, UpstreamTimeout
from app.explanations import explain

logger = logging.getLogger(__name__)

PAGES = {400, 403, 404, 413, 429, 500}


def _render(code: int, error: HTTPException, **context: object) -> tuple[str, int]:
    if code not in PAGES:
        code_page = 500 if code >= 500 else 400
    else:
        code_page = code
    template = f"errors/{code_page}.html"
    # A description given where the error was raised says what to do; the class's own is
    # generic and stays off the page.
    message = error.description if error.description != type(error).description else None
    context.setdefault("message", message)
    return render_template(template, error=error, code=code, **context), code


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    """Any HTTP error raised by a view or by Flask itself."""
    return _render(error.code or 500, error)


def handle_csrf_error(error: CSRFError) -> tuple[str, int]:
    """A form posted without a valid token: usually it was open too long."""
    logger.info("CSRF check failed: %s", error.description)
    return _render(400, error, csrf=True)


def handle_server_error(error: InternalServerError) -> tuple[str, int]:
    """An unhandled exception (outside debug mode): log it, show a plain page."""
    original = getattr(error, "original_exception", None)
    if original is not None:
        logger.error("Unhandled %s\n%s", type(original).__name__, where_it_failed(original))
    return _render(500, error)


def handle_upstream_error(error: CapillaryError) -> tuple[str, int]:
    """An upstream failure that no view acted on: plain words and the upstream's own code."""
    timed_out = isinstance(error, UpstreamTimeout)
    # Type and code only: the message can name what was asked of the upstream.
    logger.warning(
        "Upstream %s reached the error handler (code %s)", type(error).__name__, error.code
    )
    page = render_template(
        "errors/upstream.html",
        title="The loyalty system took too long" if timed_out else "The loyalty system failed",
        explanation=explain(error),
        upstream_code=error.code,
        upstream_status=error.status,
        request_id=error.request_id,
    )
    return page, 504 if timed_out else 502


def where_it_failed(exc: BaseException) -> str:
    """The traceback's frames and exception types, without any exception's message.

    Messages can carry member identifiers or credentials (requests and urllib3 put the whole
    URL, query string included, into theirs), and this lands in the log.
    """
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.format_list(traceback.extract_tb(current.__traceback__))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__} (message withheld)")
        lines.extend(frame.rstrip("\n") for frame in frames)
        current = current.__cause__ or current.__context__
    return "\n".join(lines)


def register_errorhandlers(app: Flask) -> None:
    """One handler per kind of failure."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(CapillaryError, handle_upstream_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
    # Flask's own log_exception writes the traceback with the exception's message, which can
    # hold a URL with an identifier; handle_server_error logs the same failure without it.
    app.log_exception = _logged_by_handler  # type: ignore[method-assign]


def _logged_by_handler(exc_info: object) -> None:
    """Stands in for Flask.log_exception: handle_server_error does the logging."""
