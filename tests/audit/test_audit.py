"""The audit trail: record_lookup(), keyed identifier hashes, the admin page and CSV export."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_login import login_user
from sqlalchemy import select, text

from app.audit import AuditUnavailable, identifier_hash, record_lookup
from app.audit.models import AuditRecord
from app.audit.service import normalise_identifier
from app.auth.models import StaffUser
from app.extensions import db
from tests.conftest import ADMIN, AGENT, TEST_PASSWORD, normalize_spaces, sign_in, soup

MOBILE = "+91 98765-43210"


def _as(app, username):
    """A request context with `username` signed in."""
    ctx = app.test_request_context("/")
    ctx.push()
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    login_user(user)
    return ctx


def _lookup(**overrides):
    values = {
        "identifier_type": "mobile",
        "identifier_value": MOBILE,
        "member_id": 555001,
        "program_scope": "2199",
        "outcome": "found",
        "upstream_ms": 120,
    }
    values.update(overrides)
    record_lookup(**values)


def _records(app):
    with app.app_context():
        return db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()


def _add(app, *, at, staff=AGENT, member_id=1, outcome="found", value="9876543210", kind="lookup"):
    with app.app_context():
        db.session.add(
            AuditRecord(
                at=at,
                staff_username=staff,
                identifier_type="mobile",
                identifier_hash=identifier_hash(value),
                member_id=member_id,
                program_scope="all",
                outcome=outcome,
                upstream_ms=50,
                kind=kind,
            )
        )
        db.session.commit()


def test_record_lookup_writes_who_what_when_but_never_the_identifier(app, clock):
    clock.advance(timedelta(minutes=7))  # the record's time is the app's clock, not the machine's
    ctx = _as(app, AGENT)
    try:
        _lookup()
    finally:
        ctx.pop()
    [record] = _records(app)
    assert record.staff_username == AGENT
    assert record.identifier_type == "mobile"
    assert record.member_id == 555001
    assert record.program_scope == "2199"
    assert record.outcome == "found"
    assert record.upstream_ms == 120
    assert record.kind == "lookup"
    assert record.at == clock.now()
    with app.app_context():
        assert record.identifier_hash == identifier_hash(MOBILE)
        dump = " ".join(
            str(v) for row in db.session.execute(text("SELECT * FROM audit_record")) for v in row
        )
    assert "98765" not in dump and "43210" not in dump


def test_a_lookup_with_no_identifier_or_member_is_recorded_too(app):
    ctx = _as(app, AGENT)
    try:
        _lookup(identifier_value=None, member_id=None, outcome="refused", upstream_ms=None)
    finally:
        ctx.pop()
    [record] = _records(app)
    assert record.identifier_hash is None and record.member_id is None
    assert record.outcome == "refused"


def test_the_hash_is_hmac_sha256_keyed_with_the_audit_key(make_app):
    app = make_app(AUDIT_HASH_KEY="k1")
    other = make_app(AUDIT_HASH_KEY="k2")
    with app.app_context():
        digest = identifier_hash("9876543210")
    with other.app_context():
        assert identifier_hash("9876543210") != digest
    expected = hmac.new(b"k1", b"9876543210", hashlib.sha256).hexdigest()
    assert digest == expected
    assert digest != hashlib.sha256(b"9876543210").hexdigest()  # keyed, not a bare hash


def test_the_audit_key_falls_back_to_the_secret_key_in_tests(app):
    assert app.config["AUDIT_HASH_KEY"] == app.config["SECRET_KEY"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("+91 98765-43210", "919876543210"),
        ("(0) 98765 43210", "09876543210"),
        (" Ann@Example.COM ", "ann@example.com"),
        ("CARD-0042", "card-0042"),
    ],
)
def test_usual_spellings_of_an_identifier_hash_alike(app, a, b):
    assert normalise_identifier(a) == normalise_identifier(b)
    with app.app_context():
        assert identifier_hash(a) == identifier_hash(b)


def test_unknown_outcomes_are_a_programming_error(app):
    ctx = _as(app, AGENT)
    try:
        with pytest.raises(ValueError, match="outcome"):
            _lookup(outcome="maybe")
    finally:
        ctx.pop()


def test_no_signed_in_staff_means_no_audit(app):
    with app.test_request_context("/"), pytest.raises(AuditUnavailable):
        _lookup()


def test_a_broken_database_raises_audit_unavailable(app, caplog):
    ctx = _as(app, AGENT)
    try:
        db.session.execute(text("DROP TABLE audit_record"))
        db.session.commit()
        with pytest.raises(AuditUnavailable):
            _lookup()
        # The session is usable again afterwards.
        assert db.session.scalar(select(StaffUser.username).where(StaffUser.username == AGENT))
    finally:
        ctx.pop()
    assert "Could not write the audit record" in caplog.text
    assert "98765" not in caplog.text and "555001" not in caplog.text


def _rows(response):
    return [
        {
            "staff": normalize_spaces(row.select_one(".audit-staff").get_text()),
            "member_id": normalize_spaces(row.select_one(".audit-member-id").get_text()),
            "outcome": normalize_spaces(row.select_one(".audit-outcome").get_text()),
            "kind": normalize_spaces(row.select_one(".audit-kind").get_text()),
        }
        for row in soup(response).select("table.audit-table tr.audit-row")
    ]


@pytest.fixture
def trail(app):
    """Five records over three days, by two staff members."""
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    _add(app, at=day, staff=AGENT, member_id=1, outcome="found", value="111")
    _add(app, at=day + timedelta(days=1), staff=AGENT, member_id=2, outcome="not_found")
    _add(app, at=day + timedelta(days=1, hours=1), staff=ADMIN, member_id=1, value="111")
    _add(app, at=day + timedelta(days=2), staff="Sam.Sso", member_id=3, outcome="upstream_error")
    _add(app, at=day + timedelta(days=2, hours=1), staff=AGENT, member_id=None, outcome="refused")
    return day


def test_the_page_lists_newest_first(admin_client, trail):
    response = admin_client.get("/admin/audit")
    assert response.status_code == 200
    rows = _rows(response)
    assert [r["member_id"] for r in rows] == ["", "3", "1", "2", "1"]
    caption = soup(response).select_one("table.audit-table caption").get_text()
    assert normalize_spaces(caption) == "5 records, newest first"


@pytest.mark.parametrize(
    ("query", "member_ids"),
    [
        ({"staff": AGENT}, ["", "2", "1"]),
        ({"staff": "SAM.SSO"}, ["3"]),
        ({"member_id": "1"}, ["1", "1"]),
        ({"outcome": "not_found"}, ["2"]),
        ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, ["1", "2"]),
        ({"date_from": "2026-03-12"}, ["", "3"]),
        ({"date_to": "2026-03-10"}, ["1"]),
        ({"staff": AGENT, "member_id": "1"}, ["1"]),
        ({"kind": "export"}, []),
    ],
)
def test_filters(admin_client, trail, query, member_ids):
    response = admin_client.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    assert [r["member_id"] for r in _rows(response)] == member_ids


def _hash(app, value):
    with app.app_context():
        return identifier_hash(value)


def test_a_typed_identifier_is_posted_then_filtered_by_its_hash(app, admin_client, trail):
    response = admin_client.post("/admin/audit", data={"identifier": " 111 ", "staff": ""})
    assert response.status_code == 303
    assert response.location == f"/admin/audit?identifier_hash={_hash(app, '111')}"
    page = admin_client.get(response.location)
    assert page.status_code == 200
    assert [r["member_id"] for r in _rows(page)] == ["1", "1"]
    html = soup(page)
    # Not pre-filled: the identifier is never sent back to the browser.
    assert not html.select_one("input[name=identifier]").get("value")
    notice = html.select_one(".identifier-filter")
    assert normalize_spaces(notice.get_text()) == "Filtered by an identifier. Clear"
    assert notice.select_one("a")["href"] == "/admin/audit"


def test_other_filters_keep_the_identifier_hash_until_it_is_cleared(app, admin_client, trail):
    digest = _hash(app, "111")
    form = soup(admin_client.get("/admin/audit", query_string={"identifier_hash": digest}))
    assert form.select_one("form.audit-filters")["method"] == "post"
    assert form.select_one("input[name=identifier_hash]")["value"] == digest
    response = admin_client.post(
        "/admin/audit", data={"identifier_hash": digest, "staff": ADMIN, "identifier": ""}
    )
    assert response.location == f"/admin/audit?staff={ADMIN}&identifier_hash={digest}"
    page = soup(admin_client.get(response.location))
    # The first view of this hash is on the trail too (no member id), above the lookup.
    rows = page.select("tr.audit-row")
    assert [
        (r.select_one(".audit-kind").get_text(), r.select_one(".audit-member-id").get_text())
        for r in rows
    ] == [("audit page view", ""), ("lookup", "1")]
    assert page.select_one(".identifier-filter a")["href"] == f"/admin/audit?staff={ADMIN}"
    # A newly typed identifier replaces the hash: one per reading the lookup form makes of it
    # (a national mobile with the default country code, or a customer id).
    response = admin_client.post(
        "/admin/audit", data={"identifier_hash": digest, "identifier": "9876543210"}
    )
    assert response.location == (
        f"/admin/audit?identifier_hash={_hash(app, '919876543210')}"
        f"&identifier_hash={_hash(app, '9876543210')}"
    )


@pytest.mark.parametrize(
    ("url", "lowest_id", "damaged"),
    [
        (
            "/admin/audit",
            0,
            "This link's identifier filter is damaged; clear it and type the identifier again.",
        ),
        ("/admin/audit/member", 1, "This link is damaged."),
    ],
)
def test_both_identifier_forms_hint_and_refuse_a_damaged_hash_in_their_own_words(
    admin_client, url, lowest_id, damaged
):
    response = admin_client.get(url, query_string={"member_id": "-1", "identifier_hash": "zz"})
    assert response.status_code == 400
    page = soup(response)
    # In the form's own order: the member id's error first, then the damaged link's.
    assert [a.get_text() for a in page.select(".error-summary a")] == [
        f"Member id: Enter a whole number from {lowest_id} to {2**63 - 1}.",
        f"Identifier hash: {damaged}",
    ]
    assert page.select_one("input[type=hidden][name=identifier_hash]")
    hint = page.select_one("#identifier-hint").get_text()
    assert hint == "Hashed before searching; never stored or shown."
    assert page.select_one("label[for=identifier]").get_text() == "Identifier (mobile, email, ...)"


def test_the_page_never_shows_identifier_hashes(app, admin_client, trail):
    digest = _hash(app, "111")
    page = soup(admin_client.get("/admin/audit", query_string={"identifier_hash": digest}))
    # The filter's own hash is only in links and the form, never in the text; no others at all.
    assert digest not in page.get_text()
    assert _hash(app, "9876543210") not in str(page)


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n"])
def test_a_malformed_identifier_hash_is_a_400_with_the_forms_error(admin_client, trail, bad):
    response = admin_client.get("/admin/audit", query_string={"identifier_hash": bad})
    assert response.status_code == 400
    page = soup(response)
    assert "Identifier hash" in page.select_one(".error-summary").get_text()
    assert not page.select("table.audit-table")
    assert not page.select(".identifier-filter")
    export = admin_client.get("/admin/audit.csv", query_string={"identifier_hash": bad})
    assert export.status_code == 400


def test_an_identifier_in_the_query_string_is_refused(admin_client, trail):
    for url in ("/admin/audit", "/admin/audit.csv"):
        response = admin_client.get(url, query_string={"identifier": "111"})
        assert response.status_code == 400, url
        assert "111" not in soup(response).get_text()


def test_an_invalid_post_shows_errors_but_not_the_identifier(admin_client, trail):
    response = admin_client.post(
        "/admin/audit",
        data={"identifier": "9876543210", "date_from": "2026-03-12", "date_to": "2026-03-10"},
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("#date_to-error")
    assert not page.select("table.audit-table")
    assert not page.select_one("input[name=identifier]").get("value")
    assert "9876543210" not in str(page)


def test_bad_filters_show_errors_and_no_records(admin_client, trail):
    response = admin_client.get(
        "/admin/audit", query_string={"date_from": "2026-03-12", "date_to": "2026-03-10"}
    )
    page = soup(response)
    assert page.select_one("#date_to-error")
    assert not page.select("table.audit-table")
    assert response.status_code == 400  # only a hand-edited link can carry bad filters
    assert admin_client.get("/admin/audit", query_string={"member_id": "x"}).status_code == 400


def test_pages_of_records_keep_the_filters(admin_client, app):
    for n in range(7):
        _add(app, at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n), member_id=n)
    app.config["AUDIT_PAGE_SIZE"] = 3
    first = soup(admin_client.get("/admin/audit", query_string={"staff": AGENT}))
    assert [r.select_one(".audit-member-id").get_text() for r in first.select("tr.audit-row")] == [
        "6",
        "5",
        "4",
    ]
    older = first.select_one(".pagination a[rel=next]")["href"]
    assert "staff=agent.alice" in older and "page=2" in older
    second = soup(admin_client.get(older))
    assert [r.select_one(".audit-member-id").get_text() for r in second.select("tr.audit-row")] == [
        "3",
        "2",
        "1",
    ]
    assert normalize_spaces(second.select_one(".page-status").get_text()) == "Page 2 of 3"


def _csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_has_the_same_filters(admin_client, trail):
    page = soup(admin_client.get("/admin/audit", query_string={"member_id": "1"}))
    link = page.select_one("a.export-link")["href"]
    assert link == "/admin/audit.csv?member_id=1"
    response = admin_client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    rows = _csv(response)
    # Newest first: the filtered page view just before (audited), then the two lookups.
    assert [(r["kind"], r["staff_username"], r["member_id"]) for r in rows] == [
        ("view", ADMIN, "1"),
        ("lookup", ADMIN, "1"),
        ("lookup", AGENT, "1"),
    ]
    rows = rows[1:]
    assert set(rows[0]) == {
        "at",
        "staff_username",
        "kind",
        "identifier_type",
        "identifier_hash",
        "member_id",
        "program_scope",
        "start_date",
        "end_date",
        "outcome",
        "reason",
        "upstream_ms",
        "filters",
    }
    assert datetime.fromisoformat(rows[0]["at"]) == trail + timedelta(days=1, hours=1)


def test_an_export_is_itself_audited(app, admin_client, trail):
    admin_client.get("/admin/audit.csv", query_string={"staff": AGENT, "member_id": "2"})
    export = _records(app)[-1]
    assert export.kind == "export"
    assert export.staff_username == ADMIN
    assert export.member_id == 2
    assert export.outcome == "found"
    assert export.identifier_hash is None
    # And shows up on the page under its own kind.
    rows = _rows(admin_client.get("/admin/audit", query_string={"kind": "export"}))
    assert rows == [{"staff": ADMIN, "member_id": "2", "outcome": "found", "kind": "CSV export"}]


def test_csv_cells_cannot_become_spreadsheet_formulas(app, admin_client):
    _add(app, at=datetime(2026, 1, 1, tzinfo=UTC), staff="=HYPERLINK(1)")
    rows = _csv(admin_client.get("/admin/audit.csv"))
    assert rows[0]["staff_username"] == "'=HYPERLINK(1)"


def test_no_export_when_the_export_cannot_be_audited(app, admin_client, trail):
    with app.app_context():
        db.session.execute(text("DROP TABLE audit_record"))
        db.session.commit()
        db.session.execute(
            text(
                "CREATE TABLE audit_record (id INTEGER PRIMARY KEY, at DATETIME, "
                "staff_username TEXT CHECK (staff_username = 'nobody'), identifier_type TEXT, "
                "identifier_hash TEXT, member_id INTEGER, program_scope TEXT, start_date DATE, "
                "end_date DATE, outcome TEXT, upstream_ms INTEGER, kind TEXT, reason TEXT, "
                "filters TEXT, prev_hash TEXT, record_hash TEXT)"
            )
        )
        db.session.commit()
    response = admin_client.get("/admin/audit.csv")
    assert response.status_code == 503
    assert "cannot be exported" in soup(response).select_one(".error-message").get_text()


def test_invalid_export_filters_are_a_400(admin_client):
    response = admin_client.get("/admin/audit.csv", query_string={"date_from": "soon"})
    assert response.status_code == 400


def _urls(response) -> list[str]:
    """Every URL a response hands the browser: Location, and each link, form and source."""
    urls = [response.headers.get("Location", "")]
    if response.mimetype == "text/html":
        for element in soup(response).select("[href], [action], [src], [formaction]"):
            urls += [element.get(a, "") for a in ("href", "action", "src", "formaction")]
    return urls


def test_no_identifier_reaches_any_url_of_the_audit_pages_or_export(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, AUDIT_PAGE_SIZE=2)
    for n in range(5):
        _add(app, at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n), value=MOBILE)
    client = app.test_client()
    login = soup(client.get("/login")).select_one("input[name=csrf_token]")["value"]
    client.post("/login", data={"username": ADMIN, "password": TEST_PASSWORD, "csrf_token": login})
    seen: list[str] = []

    first = client.get("/admin/audit")
    seen += _urls(first)
    token = soup(first).select_one("form.audit-filters input[name=csrf_token]")["value"]
    refused = client.post("/admin/audit", data={"identifier": MOBILE})
    assert refused.status_code == 400  # no CSRF token
    posted = client.post(
        "/admin/audit", data={"identifier": MOBILE, "staff": AGENT, "csrf_token": token}
    )
    assert posted.status_code == 303
    seen += _urls(posted)
    page = client.get(posted.location)
    seen += [posted.location, *_urls(page)]
    assert len(soup(page).select("tr.audit-row")) == 2
    older = soup(page).select_one(".pagination a[rel=next]")["href"]
    second = client.get(older)
    seen += _urls(second)
    export_link = soup(second).select_one("a.export-link")["href"]
    export = client.get(export_link)
    assert export.status_code == 200
    assert len(_csv(export)) == 5
    seen += _urls(export)

    digest = _hash(app, MOBILE)
    assert f"identifier_hash={digest}" in older and f"identifier_hash={digest}" in export_link
    urls = " ".join(seen)
    for spelling in (MOBILE, "98765", "43210", "identifier="):
        assert spelling not in urls


def test_csv_exports_are_rate_limited_per_manager(make_app):
    # Each export reads up to AUDIT_EXPORT_MAX_ROWS rows: a loop of them must not tie up the
    # database, so a manager gets a plain 429 past AUDIT_EXPORT_RATE_LIMIT.
    app = make_app(AUDIT_EXPORT_RATE_LIMIT="2 per minute")
    client = sign_in(app.test_client(), ADMIN)
    answers = [client.get("/admin/audit.csv").status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_filters_in_words_dates_as_typed_staff_by_prefix_and_csv_to_the_second(
    app, admin_client, trail
):
    page = soup(admin_client.get("/admin/audit"))
    # Dates are text boxes with the lookup form's format, not the browser's own picker.
    for name in ("date_from", "date_to"):
        box = page.select_one(f"input#{name}")
        assert box["type"] == "text" and box["inputmode"] == "numeric"
        assert page.select_one(f"#{name}-hint").get_text() == "Optional. YYYY-MM-DD"
    assert "start of the name" in page.select_one("#staff-hint").get_text()
    kinds = [o.get_text() for o in page.select("#kind option")]
    assert kinds == [
        "Any",
        "lookup",
        "CSV export",
        "member report",
        "audit page view",
        "upstream check",
        "points History",
    ]
    # Words, not codes, in the rows.
    cells = {c.get_text() for c in page.select("td.audit-identifier-type, td.audit-program")}
    assert not cells & {"customer_id", "all", "found_stale"}
    # The start of a name finds its records.
    by_prefix = _rows(admin_client.get("/admin/audit", query_string={"staff": AGENT[:4]}))
    assert by_prefix and {row["staff"] for row in by_prefix} == {AGENT}
    # CSV times: the reader's zone, whole seconds, the offset said.
    rows = _csv(admin_client.get("/admin/audit.csv"))
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d", row["at"]), row["at"]
