"""The member page for each documented shape of capillary-api.md section 7.1 and the request
rules of 7.2: the whole app against a fake Capillary over real HTTP (pytest-httpserver)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import normalize_spaces, soup
from tests.support.fake_upstream import (
    FIGURES,
    MEMBER,
    MOBILE,
    balance_body,
    respond,
)
from tests.support.lookup_helpers import decimal_text

PAGE = f"/members/{MEMBER}"
POINTS_NOT_FETCHED = {"status": False, "code": 91001, "message": "Failed to get point details"}
DENIED_TEXT = "HttpStatusCode=403 errorMessage=Not authorized. Access is denied! errorCode=4000"
CDN_522 = (
    "<!DOCTYPE html><html><head><title>example.com | 522: Connection timed out</title></head>"
    "<body><h1>Connection timed out</h1><p>Cloudflare Ray ID: 8f1e2d3c4b5a6978</p></body></html>"
)


def zeroed_with_91001(program: int = 2199) -> dict:
    """The shape the issue met: every figure zero, and warning 91001."""
    body = balance_body(program)
    body.update(totalPoints="0.000", mainPoints="0.000", promisedPoints="0.000")
    body["promisedPointsBreakup"] = {
        "delayedAccrualPoints": "0.000",
        "externalTriggerBasedPoints": "0.000",
    }
    body["warnings"] = [POINTS_NOT_FETCHED]
    return body


def tile_text(page, key: str) -> str:
    return normalize_spaces(page.select_one(f"#tile-{key} .tile-value").get_text())


def answer_figure(page, key: str) -> str:
    return normalize_spaces(page.select_one(f"#answer-{key} dd").get_text())


def failures(page) -> str:
    found = page.select_one("#failures")
    return normalize_spaces(found.get_text()) if found is not None else ""


def refresh(client):
    response = client.post(f"{PAGE}/refresh")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client.get(response.location)


@pytest.fixture
def desk(agent):
    """An agent whose session outlasts the minutes the tests move the clock by."""

    def make(**overrides):
        return agent(SESSION_IDLE_MINUTES=24 * 60, SESSION_MAX_HOURS=48, **overrides)

    return make


# --- 91001: a failed call, never figures ---------------------------------------------------


def test_a_balance_with_91001_and_zeros_shows_no_figure_and_says_it_could_not_be_fetched(
    desk, fake
):
    fake.handlers["balance:2199"] = respond(zeroed_with_91001(), **{"X-Cap-Requestid": "req-z"})
    page = soup(desk().get(PAGE))

    assert tile_text(page, "available") == "not known"
    assert answer_figure(page, "available") == "not known"
    assert page.select_one("#balance .empty").get_text().startswith("The balance could not")
    notice = failures(page)
    assert "The balance for Gold Club (2199) is missing" in notice
    assert "could not fetch the member's points" in notice
    assert "Code 91001" in notice and "Request id req-z" in notice
    assert page.select_one("#warnings") is None  # not a warning over figures
    # The other program's row still stands; Gold Club's says why it is missing.
    row = page.select_one('#programs-table tr[data-program-id="1933"] [data-col="available"]')
    assert decimal_text(row.get_text()) == Decimal(FIGURES[1933]["main"])
    gold = page.select_one('#programs-table tr[data-program-id="2199"]')
    assert "row--missing" in gold["class"]


def test_91001_inside_errors_with_data_is_a_failed_call_too(desk, fake):
    body = balance_body(2199) | {"errors": [POINTS_NOT_FETCHED]}
    fake.handlers["balance:2199"] = respond(body)
    page = soup(desk().get(PAGE))
    assert tile_text(page, "available") == "not known"
    assert "Code 91001" in failures(page)


def test_91001_shows_the_last_known_figures_under_their_banner(desk, fake, clock):
    client = desk()
    assert client.get(PAGE).status_code == 200
    clock.advance(timedelta(minutes=10))
    fake.handlers["balance:2199"] = respond(zeroed_with_91001())

    page = soup(refresh(client))

    banner = normalize_spaces(page.select_one("#last-known").get_text())
    assert banner.startswith("Last known, from ")
    assert "could not fetch the member's points" in banner
    assert page.select_one("#last-known .notice-code").get_text() == "Code 91001"
    assert decimal_text(tile_text(page, "available")) == Decimal(FIGURES[2199]["main"])


def test_91001_zeros_never_become_the_last_known_figures(desk, fake, clock):
    client = desk()
    assert client.get(PAGE).status_code == 200  # the real figures, kept as last known
    clock.advance(timedelta(minutes=5))
    fake.handlers["balance:2199"] = respond(zeroed_with_91001())
    assert refresh(client).status_code == 200
    clock.advance(timedelta(minutes=5))
    fake.handlers["balance:2199"] = respond("", 503)

    page = soup(refresh(client))

    # The figures from before the 91001 answer, not its zeros.
    assert decimal_text(tile_text(page, "available")) == Decimal(FIGURES[2199]["main"])
    assert "15 minutes ago" not in page.select_one("#last-known").get_text()
    assert "10 minutes ago" in page.select_one("#last-known").get_text()


def test_91001_with_nothing_known_before_says_could_not_be_fetched(desk, fake):
    for kind in ("balance:2199", "balance:1933"):
        fake.handlers[kind] = respond(zeroed_with_91001(int(kind.split(":")[1])))
    fake.handlers["schedule"] = respond({"warnings": [POINTS_NOT_FETCHED], "entityId": MEMBER})
    client = desk()
    response = client.post(
        "/lookup", data={"identifier_type": "mobile", "identifier": MOBILE, "program": "2199"}
    )
    assert response.status_code == 502
    page = soup(response)
    text = normalize_spaces(page.select_one("main").get_text())
    assert "could not fetch the member's points" in text
    assert "0 points" not in text


# --- missing, integer, negative and quoted figures ------------------------------------------


def test_a_balance_without_promised_points_derives_it_from_the_breakup(desk, fake):
    body = balance_body(2199)
    del body["promisedPoints"]
    fake.handlers["balance:2199"] = respond(body)
    page = soup(desk().get(PAGE))
    promised = Decimal(FIGURES[2199]["delayed"]) + Decimal(FIGURES[2199]["trigger"])
    assert decimal_text(tile_text(page, "promised")) == promised
    assert decimal_text(answer_figure(page, "pending").removesuffix(" points")) == promised
    assert failures(page) == ""


def test_figures_left_out_and_not_derivable_are_not_known_the_rest_shown(desk, fake):
    body = balance_body(2199)
    for key in ("promisedPoints", "promisedPointsBreakup", "totalPoints"):
        del body[key]
    fake.handlers["balance:2199"] = respond(body)
    page = soup(desk().get(PAGE))
    assert decimal_text(tile_text(page, "available")) == Decimal(FIGURES[2199]["main"])
    for key in ("promised", "delayed", "trigger", "total"):
        assert tile_text(page, key) == "not known", key
    assert answer_figure(page, "pending") == "not known"
    # The per-program table says the same, and its totals cannot be known for those columns.
    gold = page.select_one('#programs-table tr[data-program-id="2199"] [data-col="total"]')
    assert gold.get_text() == "not known"
    total = page.select_one('#programs-table tfoot [data-col="total"]')
    assert total.get_text() == "not known"
    summary = page.select_one("#ticket-summary").get_text().splitlines()
    assert "Total: not known" in summary


@pytest.mark.parametrize(
    ("main", "shown"),
    [('"350.000"', Decimal("350")), ("-40", Decimal("-40")), ("2340", Decimal("2340"))],
    ids=["quoted string", "negative", "integer"],
)
def test_quoted_negative_and_integer_points_are_read(desk, fake, main, shown):
    body = balance_body(2199)
    del body["totalPoints"]
    body["mainPoints"] = "__MAIN__"
    text = json.dumps(body).replace('"__MAIN__"', main)
    fake.handlers["balance:2199"] = respond(text)
    page = soup(desk().get(PAGE))
    assert decimal_text(tile_text(page, "available")) == shown
    promised = Decimal(FIGURES[2199]["delayed"]) + Decimal(FIGURES[2199]["trigger"])
    assert decimal_text(tile_text(page, "total")) == shown + promised


# --- codes in any body ----------------------------------------------------------------------


def test_the_documented_text_refusal_shows_its_code_and_what_to_fix(desk, fake):
    fake.handlers["schedule"] = respond(DENIED_TEXT, 403)
    page = soup(desk().get(PAGE))
    notice = failures(page)
    assert "The promised-points timeline is missing" in notice
    assert "Code 4000" in notice
    assert "access group" in notice and "API key's store" in notice


def test_a_json_error_code_field_refusal_is_read_too(desk, fake):
    body = {"HttpStatusCode": 403, "errorMessage": "Not authorized. Access is denied!"}
    fake.handlers["schedule"] = respond(body | {"errorCode": 4000}, 403)
    page = soup(desk().get(PAGE))
    assert "Code 4000" in failures(page)
    assert "access group" in failures(page)


# --- a CDN in front of the API -------------------------------------------------------------


def test_a_cdn_522_page_is_an_unreachable_upstream_and_is_retried(desk, fake):
    def cdn(_):
        from werkzeug import Response

        return Response(CDN_522, status=522, content_type="text/html")

    fake.handlers["schedule"] = cdn
    page = soup(desk().get(PAGE))
    notice = failures(page)
    assert "could not reach the loyalty system" in notice
    assert "522" in notice
    assert "does not recognise" not in notice
    assert fake.count("schedule") == 3  # the first try and two retries, as 502/504


def test_a_200_with_an_html_body_is_not_an_answer(desk, fake):
    fake.handlers["balance:2199"] = respond("<html><body>Please wait</body></html>")
    page = soup(desk().get(PAGE))
    assert tile_text(page, "available") == "not known"
    assert "could not reach the loyalty system" in failures(page)


def test_a_cdn_403_block_page_is_not_a_refusal_of_points_desk(desk, fake):
    fake.handlers["schedule"] = respond("<!DOCTYPE html><html><title>Attention</title></html>", 403)
    notice = failures(soup(desk().get(PAGE)))
    assert "could not reach the loyalty system" in notice
    assert "not allowed" not in notice


# --- what the docs require of a request ------------------------------------------------------


def test_a_source_other_than_instore_sends_the_account_id_on_lookups(desk, fake):
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "2199"}
    for source in ("WECHAT", "INSTORE"):
        fake.seen.clear()
        client = desk(CAPILLARY_SOURCE=source, CAPILLARY_ACCOUNT_ID="wx-acct-7")
        assert client.post("/lookup", data=form).status_code == 302
        lookups = [args for kind, args, _ in fake.seen if "identifierName" in args]
        assert lookups
        # INSTORE is the one source the docs do not ask an account id of.
        expected = "wx-acct-7" if source == "WECHAT" else None
        assert all((a["source"], a.get("accountId")) == (source, expected) for a in lookups)


def test_not_found_words_mention_dual_eligibility_when_the_org_uses_it(desk, fake):
    fake.handlers["*"] = respond({"errors": [{"code": 8015, "message": "Customer not found"}]})
    form = {"identifier_type": "email", "identifier": "a@b.example", "program": "2199"}
    for dual in (True, False):
        response = desk(CAPILLARY_DUAL_ELIGIBILITY=dual).post("/lookup", data=form)
        assert response.status_code == 404
        text = normalize_spaces(soup(response).select_one("#lookup-failure").get_text())
        assert text.startswith("Member not found No member has this email address.")
        assert ("dual eligibility" in text) is dual
        assert ("primary identifier" in text) is dual


def test_a_refused_past_date_is_explained_with_the_default_range(desk, fake, clock):
    refusal = {"errors": [{"code": 1215, "message": "startDate cannot be a past date"}]}
    fake.handlers["schedule"] = respond(refusal, 400)
    client = desk()
    start = clock.now().date() + timedelta(days=1)
    response = client.post(
        "/lookup",
        data={
            "identifier_type": "mobile",
            "identifier": MOBILE,
            "program": "2199",
            "start_date": start.isoformat(),
        },
    )
    assert response.status_code == 400
    page = soup(response)
    # Said at the date the upstream named, with the range it uses when none is sent.
    text = normalize_spaces(page.select_one("#start_date-error").get_text())
    assert "in the past" in text
    assert "Leave both dates empty for the default range: from today (" in text
    assert text.endswith(f"{clock.now().year + 100}.")
    assert page.select_one("#end_date-error") is None
