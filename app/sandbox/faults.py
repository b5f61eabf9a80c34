"""Injected failures: what each fault mode answers, and which endpoints it hits."""

from __future__ import annotations

from flask import Response

from app.sandbox.encoding import dumps

FAULT_MODES = (
    "error",
    "unavailable",
    "slow",
    "malformed",
    "html",
    # The documented shapes of capillary-api.md 7.1 that no member can carry alone.
    "access-denied",
    "access-denied-json",
    "authz-unavailable",
    "cdn-522",
    "cdn-524",
    "cdn-blocked",
    "html-200",
)
FAULT_TARGETS = ("balance", "schedule", "oauth", "programs", "customer", "expiry", "ledger")

# The documented whole-request failure body (capillary-api.md 4.1).
ALL_FAILED_BODY = {
    "warnings": [],
    "errors": [{"status": False, "message": "All requests have failed due to errors", "code": 500}],
}
UNAVAILABLE_BODY = {
    "warnings": [],
    "errors": [{"status": False, "code": 503, "message": "Service temporarily unavailable"}],
}
# A body cut off mid-number, as a dropped proxy connection would leave it.
TRUNCATED_BODY = '{"entityId": 565039505, "entityType": "CUSTOMER", "totalPoints": 85'
GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
RETRY_AFTER_SECONDS = 3600

# The authorisation refusals as the authorisation page writes them (capillary-api.md 3.3,
# 7.1): a line of text, not an errors[] array.
ACCESS_DENIED_TEXT = (
    "HttpStatusCode=403 errorMessage=Not authorized. Access is denied! errorCode=4000"
)
AUTHZ_UNAVAILABLE_TEXT = (
    "HttpStatusCode=503 errorMessage=Authorization status unavailable! errorCode=4001"
)
# The same refusal as JSON fields (the other form section 7.1 names).
ACCESS_DENIED_JSON = {"errorCode": 4000, "errorMessage": "Not authorized. Access is denied!"}

# A CDN in front of the API answers with its own pages (capillary-api.md 7.1: the docs' curl
# samples carry Cloudflare's _cfuvid cookie). Marked with the CDN's Server header, and they
# carry no X-Cap-Requestid: the API never saw the request.
CDN_SERVER = "cloudflare"
CDN_RAY = "8e1f2a3b4c5d6e7f-BOM"
_CDN_ERRORS = {
    522: ("Connection timed out", "The initial connection between Cloudflare and the origin"),
    524: ("A timeout occurred", "Cloudflare connected to the origin but it did not answer"),
}


def cdn_error_page(status: int) -> str:
    """The CDN's own HTML page for a 52x status (522 connection timed out, 524 timeout)."""
    title, why = _CDN_ERRORS[status]
    return (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8" />\n'
        f"<title>api.capillarytech.com | {status}: {title}</title>\n</head>\n<body>\n"
        '<div id="cf-wrapper">\n<div id="cf-error-details">\n'
        f'<h1><span class="inline-block">{title}</span> '
        f'<span class="code-label">Error code {status}</span></h1>\n'
        f"<p>{why} timed out.</p>\n"
        '<p>Visit <a href="https://www.cloudflare.com/5xx-error-landing">cloudflare.com</a> '
        "for more information.</p>\n</div>\n"
        f'<div class="cf-error-footer"><span>Cloudflare Ray ID: <strong>{CDN_RAY}</strong></span>'
        " &bull; <span>Performance &amp; security by Cloudflare</span></div>\n"
        "</div>\n</body>\n</html>\n"
    )


CDN_BLOCK_PAGE = (
    '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8" />\n'
    "<title>Attention Required! | Cloudflare</title>\n</head>\n<body>\n"
    '<div id="cf-wrapper">\n<h1>Sorry, you have been blocked</h1>\n'
    "<h2>You are unable to access capillarytech.com</h2>\n"
    "<p>This website is using a security service to protect itself from online attacks.</p>\n"
    f'<div class="cf-error-footer"><span>Cloudflare Ray ID: <strong>{CDN_RAY}</strong></span>'
    " &bull; <span>Performance &amp; security by Cloudflare</span></div>\n"
    "</div>\n</body>\n</html>\n"
)
# A 200 whose body is a web page (a captive portal, a maintenance page), not an answer.
HTML_200_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>Capillary</title></head>\n<body>\n"
    "<h1>We'll be back soon</h1>\n<p>Scheduled maintenance is in progress.</p>\n"
    "</body>\n</html>\n"
)


def check_fault(fault: str | None) -> None:
    """Reject an unknown fault mode."""
    if fault is not None and fault not in FAULT_MODES:
        raise ValueError(f"unknown fault {fault!r}; expected one of {FAULT_MODES} or None")


def check_fault_on(fault_on: str | None) -> None:
    """Reject an unknown fault target."""
    if fault_on is not None and fault_on not in FAULT_TARGETS:
        raise ValueError(f"unknown fault_on {fault_on!r}; expected one of {FAULT_TARGETS} or None")


def applies(fault: str | None, fault_on: str | None, kind: str | None) -> bool:
    """Whether the fault hits a request to an endpoint of this kind."""
    if fault is None or kind is None:
        return False
    return fault_on is None or fault_on == kind


def json_response(body: object, status: int) -> Response:
    """A JSON response written with the sandbox's Decimal-aware encoder."""
    return Response(dumps(body), status=status, mimetype="application/json")


def fault_response(fault: str) -> Response | None:
    """The canned answer of a fault mode; None for "slow", which answers normally later."""
    if fault == "error":
        return json_response(ALL_FAILED_BODY, 500)
    if fault == "unavailable":
        response = json_response(UNAVAILABLE_BODY, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if fault == "malformed":
        return Response(TRUNCATED_BODY, status=200, mimetype="application/json")
    if fault == "html":
        return Response(GATEWAY_PAGE, status=502, mimetype="text/html")
    return _contract_response(fault)


def _contract_response(fault: str) -> Response | None:
    """The documented shapes of section 7.1 (also what the shape members answer)."""
    if fault == "access-denied":
        return Response(ACCESS_DENIED_TEXT, status=403, mimetype="text/plain")
    if fault == "authz-unavailable":
        return Response(AUTHZ_UNAVAILABLE_TEXT, status=503, mimetype="text/plain")
    if fault == "access-denied-json":
        return json_response(ACCESS_DENIED_JSON, 403)
    if fault in ("cdn-522", "cdn-524"):
        return _cdn(cdn_error_page(int(fault[-3:])), int(fault[-3:]))
    if fault == "cdn-blocked":
        return _cdn(CDN_BLOCK_PAGE, 403)
    if fault == "html-200":
        return Response(HTML_200_PAGE, status=200, mimetype="text/html")
    return None


def _cdn(page: str, status: int) -> Response:
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Server"] = CDN_SERVER
    response.headers["CF-RAY"] = CDN_RAY
    return response


def from_cdn(response: Response) -> bool:
    """Whether an answer is the CDN's own page (the API never saw the request)."""
    return response.headers.get("Server") == CDN_SERVER
