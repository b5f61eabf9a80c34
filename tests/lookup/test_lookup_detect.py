"""One search box: what the typed value is taken for, the order the kinds are tried in, and
every message a lookup from it can end with."""

from __future__ import annotations

import re

import pytest

from app.config_rules import ConfigError
from app.lookup.detect import Candidate, detect, explicit
from app.lookup.identifiers import InvalidIdentifier
from tests.conftest import normalize_spaces, soup


@pytest.mark.parametrize(
    ("typed", "readings"),
    [
        ("asha.rao@example.com", [("email", "asha.rao@example.com")]),
        ("+91 98000 00001", [("mobile", "919800000001")]),
        ("+91-98000-00001", [("mobile", "919800000001")]),
        ("0091 98000 00001", [("mobile", "919800000001")]),
        ("098000 00001", [("mobile", "919800000001")]),  # trunk 0: the default country
        ("98000-00001", [("mobile", "919800000001")]),
        ("(98000) 00001", [("mobile", "919800000001")]),
        # Bare digits: a mobile first when long enough to be one, else a customer id first.
        ("919800000001", [("mobile", "919800000001"), ("customer_id", "919800000001")]),
        ("9800000001", [("mobile", "919800000001"), ("customer_id", "9800000001")]),
        ("700000001", [("customer_id", "700000001"), ("mobile", "91700000001")]),
        ("12345", [("customer_id", "12345")]),
        ("9" * 18, [("customer_id", "9" * 18)]),
        # Letters and digits: a card number (as typed, then in capitals), else an external id.
        (
            "card-1001",
            [("cardnumber", "card-1001"), ("cardnumber", "CARD-1001"), ("externalId", "card-1001")],
        ),
        ("CARD-1001", [("cardnumber", "CARD-1001"), ("externalId", "CARD-1001")]),
        ("EXT-1001", [("cardnumber", "EXT-1001"), ("externalId", "EXT-1001")]),
    ],
)
def test_what_a_typed_value_is_taken_for(typed, readings):
    assert [(c.kind, c.value) for c in detect(typed, "91")] == readings


def test_the_country_code_added_is_remembered_for_the_message():
    assert detect("98000 00001", "44") == (Candidate("mobile", "449800000001", "44"),)
    assert detect("+91 98000 00001", "44") == (Candidate("mobile", "919800000001", None),)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "enter a value"),
        ("a,b", "cannot contain a comma"),
        ("9198\x00", "characters that cannot be part"),
        ("+91 98-", "mobile number of 6 to 15 digits"),
        ("+1 23", "mobile number of 6 to 15 digits"),
        ("9" * 30, "too long for a mobile"),
        ("%%%", "choose the kind from the list"),
        ("x@", "email address like name@example.com"),
    ],
)
def test_values_that_are_no_identifier_say_why(typed, says):
    with pytest.raises(InvalidIdentifier, match=re.escape(says)):
        detect(typed, "91")


def test_a_chosen_kind_is_read_as_that_kind_only():
    assert explicit("customer_id", "919800000001", "91") == (
        Candidate("customer_id", "919800000001"),
    )
    assert explicit("mobile", "98000 00001", "91") == (Candidate("mobile", "919800000001", "91"),)
    assert [c.value for c in explicit("cardnumber", "card-1001", "91")] == [
        "card-1001",
        "CARD-1001",
    ]


def lookup(client, typed: str, kind: str = "auto", **extra: str):
    return client.post(
        "/lookup", data={"identifier_type": kind, "identifier": typed, "program": "2199", **extra}
    )


def kinds_asked(upstream) -> list[str]:
    """The identifier kinds the sandbox was asked for, in order (customer id: by path)."""
    asked = []
    for entry in upstream.request_log():
        if entry.kind != "balance" or "programId" not in entry.query:
            continue
        kind = entry.query.get("identifierName", "customer_id")
        if not asked or asked[-1] != kind:
            asked.append(kind)
    return asked


def test_ambiguous_digits_are_tried_as_a_mobile_then_a_customer_id(client, upstream):
    response = lookup(client, "9811112222")
    assert response.status_code == 404
    assert kinds_asked(upstream) == ["mobile", "customer_id"]
    page = soup(response)
    failure = page.select_one("#lookup-failure")
    assert normalize_spaces(failure.select_one(".notice-explanation").get_text()) == (
        "No member has this mobile number or Capillary customer id."
    )
    steps = [normalize_spaces(li.get_text()) for li in failure.select("#next-steps li")]
    assert steps == [
        "Check the country code: Points Desk put 91 in front of the number. If the member's "
        "mobile is from another country, type it with + and its code.",
        "Ask the member for another identifier: email address, external id, card number.",
    ]
    # Said once: no field message, no second summary box.
    assert page.select(".field-errors") == [] and page.select(".error-summary") == []
    assert page.select_one("#identifier")["value"] == "9811112222"


def test_the_first_reading_that_finds_the_member_wins(client, upstream):
    response = lookup(client, "EXT-1001")
    assert response.status_code == 302
    assert kinds_asked(upstream) == ["cardnumber", "externalId"]
    page = soup(client.get(response.location))
    assert page.select_one("#found-by").get_text() == "Found by external id."
    looked_up = page.select_one("#looked-up").get_text()
    assert looked_up.startswith("External id ") and "EXT-1001" not in page.get_text()


def test_a_chosen_kind_is_the_only_one_tried(client, upstream):
    response = lookup(client, "919800000001", kind="customer_id")
    assert response.status_code == 404
    assert kinds_asked(upstream) == ["customer_id"]
    page = soup(response)
    assert normalize_spaces(page.select_one("#lookup-failure .notice-explanation").get_text()) == (
        "No member has this Capillary customer id."
    )
    steps = [normalize_spaces(li.get_text()) for li in page.select("#next-steps li")]
    assert steps[-1] == (
        "Or set the identifier type to “Work it out from what I type” to try every kind the "
        "value could be."
    )
    found = client.post(
        "/lookup",
        data={"identifier_type": "mobile", "identifier": "98000 00001", "program": "2199"},
    )
    assert found.status_code == 302
    assert soup(client.get(found.location)).select_one("#found-by") is None  # not worked out


def test_a_card_number_matches_whatever_its_case(client, upstream):
    response = lookup(client, "card-1002", kind="cardnumber")
    assert response.status_code == 302 and "/members/700000002" in response.location
    card_values = [e.query.get("identifierValue") for e in upstream.request_log()]
    assert card_values.index("card-1002") < card_values.index("CARD-1002")


def test_the_default_country_code_is_configurable(make_client, upstream):
    client = make_client(LOOKUP_DEFAULT_COUNTRY_CODE="+44")
    response = lookup(client, "98000 00001")
    assert response.status_code == 404
    sent = {e.query.get("identifierValue") for e in upstream.request_log()}
    assert sent == {"449800000001"}
    assert "put 44 in front" in soup(response).select_one("#next-steps").get_text()
    hint = normalize_spaces(soup(client.get("/")).select_one("#identifier-hint").get_text())
    assert "44 is assumed" in hint


@pytest.mark.parametrize("code", ["", "abc", "12345", "9 1"])
def test_a_country_code_that_is_not_one_stops_start_up(make_app, code):
    with pytest.raises(ConfigError, match="LOOKUP_DEFAULT_COUNTRY_CODE"):
        make_app(LOOKUP_DEFAULT_COUNTRY_CODE=code)


@pytest.mark.parametrize(
    ("typed", "kind", "status", "selector", "says"),
    [
        ("not a phone", "mobile", 400, "#identifier-error", "Enter a mobile number of 6 to 15"),
        ("%%%", "auto", 400, "#identifier-error", "choose the kind from the list"),
        ("nobody@example.com", "auto", 404, "#lookup-failure", "No member has this email"),
        ("x,y", "auto", 400, "#identifier-error", "cannot contain a comma"),
    ],
)
def test_the_typed_value_stays_after_every_outcome(
    client, upstream, typed, kind, status, selector, says
):
    response = lookup(client, typed, kind=kind)
    assert response.status_code == status
    page = soup(response)
    assert says in normalize_spaces(page.select_one(selector).get_text())
    assert page.select_one("#identifier")["value"] == typed
    assert page.select_one("#identifier_type option[selected]")["value"] == kind


def test_an_upstream_failure_keeps_the_value_too(client, upstream):
    upstream.configure(fault="unavailable")
    response = lookup(client, "98000 00001")
    assert response.status_code in (502, 503)
    page = soup(response)
    assert page.select_one("#identifier")["value"] == "98000 00001"
    assert "HTTP 503" in page.select_one("#lookup-failure .notice-status").get_text()
    assert kinds_asked(upstream) == ["mobile"]  # not "not found": nothing else is tried


def test_a_second_identifier_needs_the_first_ones_kind(client, upstream):
    response = lookup(
        client, "919800000001", second_identifier_type="email", second_identifier="a@example.com"
    )
    assert response.status_code == 400
    assert (
        "choose the first one's type too"
        in soup(response).select_one("#second_identifier-error").get_text()
    )


def test_the_search_box_is_first_and_focused(client, upstream):
    page = soup(client.get("/"))
    fields = [
        tag["id"]
        for tag in page.select("#lookup-form input:not([type=hidden]), #lookup-form select")
    ]
    assert fields[:2] == ["identifier", "identifier_type"]
    assert page.select_one("#identifier").has_attr("autofocus")
    assert page.select("[autofocus]") == [page.select_one("#identifier")]
    skip = page.select_one("body > a.skip-link")
    assert skip["href"] == "#content" and page.select_one("main#content") is not None
    # After an error the error summary, not the box, is what a screen reader meets first.
    assert soup(lookup(client, "%%%")).select("[autofocus]") == []
