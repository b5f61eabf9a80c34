"""The benchmark's floor (bench/floor_app.py) makes the desk's upstream calls and shows the
same figures, so the desk is measured against a like-for-like page."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal

from tests.conftest import soup

MOBILE = "919800000001"
PROGRAMS = {2199: "Gold Club", 1933: "Partner Rewards", 890: "Fuel Rewards"}


def _floor(monkeypatch, sandbox):
    monkeypatch.setenv("FLOOR_UPSTREAM_URL", sandbox.url)
    monkeypatch.setenv("FLOOR_USERNAME", sandbox.username)
    monkeypatch.setenv("FLOOR_PASSWORD", sandbox.password)
    monkeypatch.setenv("FLOOR_PROGRAMS", json.dumps({str(k): v for k, v in PROGRAMS.items()}))
    import bench.floor_app

    return importlib.reload(bench.floor_app).app.test_client()


def test_the_floor_shows_the_desks_balance_with_the_same_upstream_calls(
    monkeypatch, client, upstream
):
    form = {"identifier_type": "mobile", "identifier": MOBILE, "program": "2199"}
    posted = client.post("/lookup", data=form)
    assert posted.status_code == 302
    desk = client.get(posted.location)
    floor = _floor(monkeypatch, upstream).get(f"/members?mobile={MOBILE}&program=2199")
    assert floor.status_code == 200
    assert floor.headers["X-Upstream-Calls"] == posted.headers["X-Upstream-Calls"] == "6"
    desk_page, floor_page = soup(desk), soup(floor)
    for key in ("total", "available", "promised"):
        desk_points = desk_page.select_one(f"#tile-{key} .tile-value")["data-points"]
        floor_points = floor_page.select_one(f"#{key}").get_text().replace(",", "")
        assert Decimal(floor_points) == Decimal(desk_points)
    assert len(floor_page.select("#programs tr")) == 1 + len(PROGRAMS)
    assert floor_page.select("#timeline td")  # the schedule's entries are on the page too


def test_the_floor_refuses_a_malformed_query(monkeypatch, upstream):
    assert _floor(monkeypatch, upstream).get("/members?mobile=abc&program=2199").status_code == 400
