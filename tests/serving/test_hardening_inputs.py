"""Hostile input at the page level: every bad value gets a 4xx or a form error, never a 500,
and whatever is echoed back is shown as inert text.

Each test loops over many values in one app (an app per value would make the suite slow) and
reports every value that misbehaved, not just the first.
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit

import itsdangerous.timed
import pytest

from tests.conftest import normalize_spaces, soup

MEMBER = 700000001
MOBILE = "919800000001"

HOSTILE = {
    "empty": "",
    "whitespace": "   \t  ",
    "10kB digits": "9" * 10_000,
    "10kB letters": "x" * 10_000,
    "control characters": "9198\x01\x02\x1b[31m0001",
    "CR/LF": "919800000001\r\nX-Injected: 1",
    "NUL": "919800000001\x00",
    "right-to-left override": "\u202e100000008919",
    "emoji": "\U0001f600919800000001",
    "dot-dot": "../x",
    "slash": "1/points",
    "%2F": "%2F",
    "%00": "%00",
    "negative": "-1",
    "float": "1.5",
    "30 digits": "9" * 30,
    "5,001 digits with leading zeros": "0" * 5000 + "1",
    "script": "<script>alert(1)</script>",
    "svg onload": '"><svg onload=alert(1)>',
    "template": "{{7*7}}",
    "comma": "a,b",
}
ID_TYPES = ["mobile", "email", "externalId", "cardnumber", "customer_id"]
OUR_SCRIPTS = {"/static/js/copy.js", "/static/js/busy.js"}


@pytest.fixture
def client(make_client):
    """A signed-in agent whose rate limits do not stop a loop of hostile values."""
    return make_client(**UNLIMITED)


UNLIMITED = {"LOOKUP_RATE_LIMIT": "10000 per minute", "MEMBER_PAGE_RATE_LIMIT": "10000 per minute"}


def post_lookup(client, **fields):
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "2199"}
    form.update(fields)
    return client.post("/lookup", data=form)


def injected(page) -> list[str]:
    """Elements or attributes in a parsed page that no template of ours produces."""
    found = [
        str(tag)[:80]
        for tag in page.select("script")
        if urlsplit(tag.get("src", "")).path not in OUR_SCRIPTS or tag.get_text().strip()
    ]
    found += [
        f"{tag.name}[{attr}]"
        for tag in page.find_all(True)
        for attr in tag.attrs
        if attr.lower().startswith("on")
    ]
    found += [str(tag)[:80] for tag in page.select("iframe, object, embed, base, meta[http-equiv]")]
    return found


def problems_with(response, value: str) -> list[str]:
    """What is wrong with the answer to a hostile value: a 5xx, injected markup, 7*7 = 49."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"]
    if response.status_code in (301, 302, 303):
        return []
    page = soup(response)
    found = injected(page)
    if "{{" in value:
        # Where a typed value is echoed (not the whole page: the random CSRF token, a hex
        # request id, a time such as a recent lookup's "19:49" or "in 49 days" may hold 49).
        values, said = echo_places(page)
        if any("49" in v for v in values) or re.search(r"(?<![\w-])49(?![\w-])", said):
            found.append("template expression evaluated")
    return found


# The elements that carry what a page says about the input: headings, field errors, notices.
MESSAGES = "title, h1, h2, .field-errors, .flash, .notice, #lookup-failure, #bad-link-message"


def typed_fields(page) -> list:
    """The inputs that can carry what the staff member typed (not the CSRF token)."""
    return page.select("input:not([name=csrf_token]), textarea")


def echo_places(page) -> tuple[list[str], str]:
    """The field values and the words of the places a page shows a typed value back.

    A member page (a bad date in its link) shows it on its own view form, whose neighbours
    are figures that may hold any digits; any other page in its messages and fields.
    """
    view_form = page.select_one("#view-form")
    if view_form is not None:
        return [box.get("value", "") for box in typed_fields(view_form)], view_form.get_text()
    words = " ".join(tag.get_text() for tag in page.select(MESSAGES))
    return [tag.get("value", "") for tag in typed_fields(page)], words


def echoed(page, value: str) -> bool:
    """Whether the page put value back where a page echoes input.

    Not a search of the whole document: a short value such as "-1" can stand by chance in
    the random CSRF token, a request id or a figure.
    """
    values, words = echo_places(page)
    return value in words or value in values


def test_hostile_identifier_of_every_type_gets_a_4xx_and_is_echoed_inert(client, upstream):
    failures = {}
    for id_type, (name, value) in itertools.product(ID_TYPES, HOSTILE.items()):
        response = post_lookup(client, identifier_type=id_type, identifier=value)
        wrong = problems_with(response, value)
        if response.status_code not in (400, 404):
            wrong.append(f"HTTP {response.status_code}")
        page = soup(response)
        if response.status_code == 400 and not page.select("#identifier-error"):
            wrong.append("no message next to the identifier")
        if response.status_code == 404:
            # Only a value that is a well-formed id of its type goes upstream (and is unknown).
            assert id_type in ("externalId", "cardnumber"), (id_type, name)
            assert "No member" in page.select_one("#lookup-failure .notice-explanation").get_text()
        echoed = page.select_one("#identifier").get("value", "")
        if value.strip() and len(value) < 300 and "\x00" not in value and echoed != value:
            wrong.append(f"typed value not kept as text: {echoed[:40]!r}")
        if wrong:
            failures[(id_type, name)] = wrong
    assert failures == {}


def test_identifier_values_that_reach_the_upstream_are_sent_as_typed(client, upstream):
    for value in ("<script>alert(1)</script>", "../x", "1/points", "{{7*7}}"):
        assert (
            post_lookup(client, identifier_type="externalId", identifier=value).status_code == 404
        )
    sent = {entry.path for entry in upstream.request_log()}
    # Path-like values stay query parameters; they never change which endpoint is called.
    assert sent == {
        "/v2/customers/lookup/points/balance",
        "/v2/customers/lookup/promisedPointsSchedule",
        "/v2/customers/lookup/customerDetails",
        "/v2/customers/lookup/pointsExpirySchedule",
    }
    values = {entry.query["identifierValue"] for entry in upstream.request_log()}
    assert values == {"<script>alert(1)</script>", "../x", "1/points", "{{7*7}}"}


@pytest.mark.parametrize("field", ["second_identifier", "start_date", "end_date", "program"])
def test_hostile_values_in_the_other_fields_get_a_form_error(client, upstream, field):
    failures = {}
    for name, value in HOSTILE.items():
        extra = {"second_identifier_type": "email"} if field == "second_identifier" else {}
        calls_before = len(upstream.request_log())
        response = post_lookup(client, **extra, **{field: value})
        wrong = problems_with(response, value)
        if response.status_code == 400 and len(upstream.request_log()) != calls_before:
            wrong.append("refused, yet sent upstream")
        optional = field != "second_identifier"  # a second type is chosen: a value is needed
        if optional and (name == "empty" or (name == "whitespace" and "date" in field)):
            # An empty optional field is no choice: the default program, no date range.
            if response.status_code != 302:
                wrong.append(f"HTTP {response.status_code} for a blank optional field")
        elif response.status_code != 400:
            wrong.append(f"HTTP {response.status_code}")
        elif not soup(response).select(f"#{field}-error"):
            wrong.append("no message next to the field")
        if wrong:
            failures[name] = wrong
    assert failures == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"identifier_type": "passport"},
        {"identifier_type": ""},
        {"identifier_type": "<script>alert(1)</script>"},
        {"identifier_type": "mobile,email"},
        {"identifier_type": "customer_id\x00"},
        {"second_identifier_type": "customer_id", "second_identifier": "5"},
        {"second_identifier_type": "passport", "second_identifier": "x"},
    ],
    ids=["passport", "empty", "script", "two-types", "nul", "second-customer-id", "second-other"],
)
def test_identifier_types_outside_the_list_are_refused(client, upstream, fields):
    response = post_lookup(client, **fields)
    assert response.status_code == 400
    page = soup(response)
    field = "second_identifier_type" if "second_identifier_type" in fields else "identifier_type"
    assert "Not a valid choice" in page.select_one(f"#{field}-error").get_text()
    assert injected(page) == []
    assert upstream.request_log() == []


MEMBER_PATHS = [
    "/members/../x",
    "/members/1/points",
    "/members/%2F",
    "/members/%2e%2e%2fx",
    "/members/%00",
    "/members/-1",
    "/members/1.5",
    "/members/0",
    "/members/" + "9" * 30,
    "/members/" + "9" * 5000,
    "/members/" + "0" * 5000 + "1",
    "/members/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/members/%7B%7B7*7%7D%7D",
]


@pytest.mark.parametrize("method", ["GET", "POST refresh"])
def test_weird_member_paths_are_404(client, upstream, method):
    answers = {}
    for path in MEMBER_PATHS:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path + "/refresh")
        page = soup(response)
        heading = normalize_spaces(page.select_one("h1").get_text())
        answers[path[:40]] = (response.status_code, heading, injected(page))
    expected = {"Page not found", "This link cannot be opened"}
    assert {(s, h in expected, i == []) for s, h, i in answers.values()} == {(404, True, True)}
    assert upstream.request_log() == []


@pytest.mark.parametrize("key", ["program", "from", "to"])
def test_hostile_deep_link_parameters_are_a_400(client, upstream, key):
    failures = {}
    for name, value in HOSTILE.items():
        response = client.get(f"/members/{MEMBER}", query_string={key: value})
        wrong = problems_with(response, value)
        if name == "empty" and key != "program":
            if response.status_code != 200:  # no date given: the page, unfiltered
                wrong.append(f"HTTP {response.status_code}")
        elif response.status_code != 400:
            wrong.append(f"HTTP {response.status_code}")
        elif value.strip() and echoed(soup(response), value):
            wrong.append("the bad value was echoed")  # the page says what is wrong, in words
        if wrong:
            failures[name] = wrong
    assert failures == {}


@pytest.mark.parametrize("key", ["start_date", "end_date"])
def test_the_member_page_view_form_redirects_hostile_dates_to_a_400(client, upstream, key):
    failures = {}
    for name, value in HOSTILE.items():
        response = client.get(f"/members/{MEMBER}", query_string={key: value})
        if response.status_code != 302:
            failures[name] = f"HTTP {response.status_code}"
            continue
        target = urlsplit(response.location)
        if target.netloc or target.path != f"/members/{MEMBER}" or "\n" in response.location:
            failures[name] = f"redirected to {response.location[:60]!r}"
            continue
        final = client.get(response.location)
        expected = 200 if name == "empty" else 400  # empty: no date, the unfiltered page
        if final.status_code != expected or problems_with(final, value):
            failures[name] = f"then HTTP {final.status_code}"
    assert failures == {}


@pytest.mark.parametrize(
    "body",
    [
        b"identifier_type=mobile&identifier=\xff\xfe9198&program=2199",
        b"identifier_type=mobile&identifier=%ff%fe9198&program=2199",
        b"identifier_type=\xc3\x28&identifier=919800000001&program=2199",
        b"identifier_type=mobile&identifier=919800000001&program=21\xed\xa0\x8099",
        b"identifier_type=mobile&identifier=919800000001&start_date=2027-01-0\xc0\xaf",
        b"\xff\xfe\xfd",
    ],
    ids=["raw-ff-fe", "pct-ff-fe", "bad-type", "surrogate-in-program", "overlong-slash", "junk"],
)
def test_invalid_utf8_in_the_form_body_is_a_form_error(client, upstream, body):
    response = client.post("/lookup", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    page = soup(response)
    assert page.select(".field-errors"), "the form comes back with a message"
    assert injected(page) == []
    assert upstream.request_log() == []


@pytest.mark.parametrize(
    "query",
    ["program=%ff%fe", "from=2027-01-0%c0%af", "to=%ed%a0%80", "program=21%0099"],
)
def test_invalid_utf8_in_a_deep_link_is_a_400(client, upstream, query):
    response = client.get(f"/members/{MEMBER}?{query}")
    assert response.status_code == 400
    page = soup(response)
    if query.startswith("program"):
        assert page.select_one("#bad-link-message").get_text().startswith("The ")
        assert upstream.request_log() == []
    else:
        # A bad date is a form error on the member page, which shows every date meanwhile.
        field = "#start_date-error" if query.startswith("from") else "#end_date-error"
        assert "not a date" in page.select_one(f"#view-form {field}").get_text()
        assert page.select_one("#member-id").get_text() == str(MEMBER)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ({"identifier_type": "mobile", "identifier": "9" * 1_000_000}, None),
        (b"identifier=" + b"9" * (64 * 1024), "application/x-www-form-urlencoded"),
        (b"x" * 1_000_000, "application/octet-stream"),
        (
            b"--b\r\nContent-Disposition: form-data; name=identifier\r\n\r\n"
            + b"9" * 100_000
            + b"\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    ],
    ids=["1MB-form", "just-over-64KiB", "1MB-binary", "100kB-multipart"],
)
def test_oversized_bodies_get_a_friendly_413(client, upstream, data, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post("/lookup", data=data, **kwargs)
    assert response.status_code == 413
    page = soup(response)
    assert normalize_spaces(page.select_one("h1").get_text()) == "That was too much to send"
    assert "Nothing was looked up" in normalize_spaces(page.select_one(".error-message").get_text())
    assert upstream.request_log() == []


def test_oversized_sign_in_is_413_too(anon_client):
    response = anon_client.post("/login", data={"username": "x" * 1_000_000, "password": "y"})
    assert response.status_code == 413


# --- CSRF ---------------------------------------------------------------------------------


def _old_timestamp(monkeypatch, seconds_ago: int) -> None:
    """Sign CSRF tokens as if issued seconds_ago (the session cookie keeps the real time)."""
    now = itsdangerous.timed.TimestampSigner.get_timestamp

    def timestamp(signer) -> int:
        return now(signer) - (seconds_ago if signer.salt == b"wtf-csrf-token" else 0)

    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", timestamp)


@pytest.fixture
def csrf_client(make_client):
    return make_client(WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=600, **UNLIMITED)


def _token(client) -> str:
    return soup(client.get("/")).select_one("input[name=csrf_token]")["value"]


@pytest.mark.parametrize("url", ["/lookup", f"/members/{MEMBER}/refresh"])
@pytest.mark.parametrize(
    "token", ["missing", "wrong", "tampered", "from-another-session", "expired"]
)
def test_posts_without_a_valid_csrf_token_get_the_form_expired_page(
    csrf_client, make_client, upstream, monkeypatch, url, token
):
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "2199"}
    if token == "wrong":
        form["csrf_token"] = "not-a-token"
    elif token == "tampered":
        good = _token(csrf_client)
        form["csrf_token"] = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    elif token == "from-another-session":
        form["csrf_token"] = _token(make_client(WTF_CSRF_ENABLED=True))
    elif token == "expired":
        with monkeypatch.context() as patch:
            _old_timestamp(patch, 601)
            form["csrf_token"] = _token(csrf_client)
    upstream.reset()
    response = csrf_client.post(url, data=form)
    assert response.status_code == 400
    page = soup(response)
    assert normalize_spaces(page.select_one("h1").get_text()) == "Your form expired"
    assert upstream.request_log() == []


def test_a_token_still_in_time_works(csrf_client, upstream, monkeypatch):
    with monkeypatch.context() as patch:
        _old_timestamp(patch, 590)
        token = _token(csrf_client)
    response = post_lookup(csrf_client, csrf_token=token)
    assert response.status_code == 302
