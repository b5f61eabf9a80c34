"""Hypothesis strategies and a runner that throw odd values at every route of the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from tests.conftest import ADMIN, sign_in

# Any character a URL or form can carry (a lone surrogate cannot be encoded at all).
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_control = st.sampled_from(["\x00", "a\x00b", "\x1b[31m", "\x7f", "x\x01", "\r\nX: 1"])
_dates = st.one_of(
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "2999-12-31", "1999-12-31"]),
    st.dates().map(str),
    st.integers(min_value=-99999, max_value=999999).map(lambda year: f"{year}-01-01"),
)
_numbers = st.one_of(
    st.sampled_from(["0", "-1", "1", "99999999999999999999", "9" * 400, "1e9", " 7", "0x10"]),
    st.integers().map(str),
)
_words = st.sampled_from(
    ["", "all", "default", "2199", "found", "export", "lookup", "mobile", "customer_id", "../.."]
    + ["919800000001", "700000001", "a" * 300, "\u202e", "%00", "<b>"]
)
# Every name a route reads from a query string or a form, with values of its own kind.
KINDS = {
    "page": _numbers,
    "member_id": _numbers,
    "staff": _words,
    "identifier": _words,
    "identifier_hash": st.one_of(_words, st.text("0123456789abcdef", min_size=63, max_size=65)),
    "date_from": _dates,
    "date_to": _dates,
    "from": _dates,
    "to": _dates,
    "start_date": _dates,
    "end_date": _dates,
    "outcome": _words,
    "kind": _words,
    "program": st.one_of(_words, _numbers),
    "identifier_type": _words,
    "second_identifier_type": _words,
    "second_identifier": _words,
    "username": _words,
    "password": _words,
    "next": st.sampled_from(["/", "//evil.example", "/admin/audit", "https://x", ""]),
}


def _value(kind: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Now and then any text at all, or a control character (which must be a 400 everywhere).
    return st.one_of(kind, kind, kind, kind, _text, _control)


@st.composite
def _fields(draw: Any) -> dict[str, str]:
    """Names the routes read, each with a value of its kind, and now and then a stray name."""
    names = draw(st.lists(st.sampled_from(sorted(KINDS)), max_size=5, unique=True))
    found = {name: draw(_value(KINDS[name])) for name in names}
    found.update(draw(st.dictionaries(_text.filter(bool), _value(_words), max_size=1)))
    return found


fields = _fields()


def _path_value(converter: str) -> st.SearchStrategy[str]:
    if converter == "IntegerConverter":
        return st.one_of(st.integers(min_value=0), st.sampled_from(["700000001", "1"])).map(str)
    return _text.filter(bool).map(lambda text: quote(text, safe=""))


def _routes(app: Flask) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda item: (item[0].rule, item[1]))


def _request_strategy(app: Flask) -> st.SearchStrategy[tuple[str, str, dict, dict]]:
    @st.composite
    def build(draw: Any) -> tuple[str, str, dict, dict]:
        rule, method = draw(st.sampled_from(_routes(app)))
        path = rule.rule
        for argument in rule.arguments:
            converter = type(rule._converters[argument]).__name__
            value = draw(_path_value(converter))
            for placeholder in (f"<{argument}>", f"<int:{argument}>", f"<path:{argument}>"):
                path = path.replace(placeholder, value)
        return method, path, draw(fields), draw(fields) if method == "POST" else {}

    return build()


def fuzz_every_route(app: Flask, *, examples: int) -> list[tuple[str, str, int]]:
    """Send generated requests to every route as a signed-in admin; the ones that got a 5xx."""
    client = sign_in(app.test_client(), ADMIN)
    failures: list[tuple[str, str, int]] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_request_strategy(app))
    def one_request(request: tuple[str, str, dict, dict]) -> None:
        nonlocal client
        method, path, query, form = request
        response = client.open(path, method=method, query_string=query, data=form)
        if response.status_code >= 500 and response.status_code != 503:
            failures.append((method, path, response.status_code))
        if path == "/logout" and response.status_code == 302:
            client = sign_in(app.test_client(), ADMIN)  # signed out: carry on signed in

    one_request()
    return failures
