"""Roles: every route states the least role that may use it, and the guard holds to it for
agents, managers, admins and the signed out, in local and in proxy mode."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.access import PUBLIC_ENDPOINTS, required_role
from app.auth.models import ROLES, StaffUser, role_rank
from app.extensions import db
from tests.conftest import ADMIN, AGENT, add_staff, sign_in, soup

MANAGER = "manager.meg"
# A signed-in staff member of each role.
STAFF = {"agent": AGENT, "manager": MANAGER, "admin": ADMIN}
# What each route is for; a route added without a line here fails the first test, so its
# role gets thought about.
EXPECTED_ROLES = {
    "lookup.search": "agent",
    "lookup.submit": "agent",
    "lookup.member": "agent",
    "lookup.refresh": "agent",
    "lookup.give_reason": "agent",
    "lookup.history": "agent",
    "auth.logout": "agent",
    "auth.account": "agent",
    "auth.change_password": "agent",
    "auth.change_timezone": "agent",
    "audit.index": "manager",
    "audit.search": "manager",
    "audit.export": "manager",
    "audit.member_report": "manager",
    "audit.member_report_search": "manager",
    "auth.staff": "admin",
    "auth.staff_new": "admin",
    "auth.staff_account": "admin",
    "auth.staff_role": "admin",
    "auth.staff_act": "admin",
    "auth.staff_trail": "admin",
    "lookup.upstream_budget": "admin",
}


@pytest.fixture
def role_app(make_app) -> Flask:
    app = make_app()
    with app.app_context():
        add_staff(MANAGER, "manager")
    return app


def _rules(app: Flask):
    """(endpoint, method, url) for every route, with its arguments filled in."""
    with app.app_context():
        agent_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == AGENT))
    values = {"member_id": 700000001, "user_id": agent_id, "action": "lock", "token": "x" * 43}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.build({arg: values[arg] for arg in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_route_states_its_role(role_app):
    stated = {}
    for rule in role_app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        role = required_role(role_app, rule.endpoint)
        assert role in ROLES, f"{rule.rule} ({rule.endpoint}) states no role"
        stated[rule.endpoint] = role
    assert stated == EXPECTED_ROLES


def test_only_sign_in_health_metrics_and_the_setup_link_are_public(role_app):
    # /metrics needs no sign-in, but answers only METRICS_ALLOWED addresses (test_metrics.py).
    public = {rule.endpoint for rule in role_app.url_map.iter_rules()} & PUBLIC_ENDPOINTS
    assert public == {
        "static",
        "main.healthz",
        "main.readyz",
        "main.prometheus_metrics",
        "auth.login",
        "auth.setup",
    }


def _call(client, method: str, url: str):
    return client.open(url, method=method, data={})


def test_signed_out_every_route_goes_to_sign_in(role_app):
    for endpoint, method, url in _rules(role_app):
        response = _call(role_app.test_client(), method, url)
        assert response.status_code == 302, (endpoint, method)
        assert response.headers["Location"].startswith("/login"), (endpoint, method)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(role_app, role):
    for endpoint, method, url in _rules(role_app):
        # A fresh sign-in each time: some routes (sign-out) end the session.
        client = sign_in(role_app.test_client(), STAFF[role])
        response = _call(client, method, url)
        allowed = role_rank(role) >= role_rank(EXPECTED_ROLES[endpoint])
        if allowed:
            assert response.status_code != 403, (role, endpoint, method)
            assert response.status_code < 500, (role, endpoint, method)
            assert not response.headers.get("Location", "").startswith("/login?"), endpoint
        else:
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
            heading = soup(response).select_one("h1").get_text()
            assert heading == "You cannot see this page"


def test_a_view_that_states_no_role_is_refused_to_everyone(role_app, caplog):
    role_app.add_url_rule("/forgot-its-role", "forgot_its_role", lambda: "secret")
    client = sign_in(role_app.test_client(), ADMIN)
    assert client.get("/forgot-its-role").status_code == 403
    assert "forgot_its_role states no role" in caplog.text


@pytest.mark.parametrize(
    ("groups", "audit", "staff"),
    [
        ("staff", 403, 403),
        ("staff, desk-managers", 200, 403),
        ("desk-managers", 200, 403),
        ("staff, points-admins", 200, 200),
    ],
)
def test_proxy_groups_map_to_roles(make_app, groups, audit, staff):
    app = make_app(
        AUTH_MODE="proxy",
        AUTH_PROXY_TRUSTED=["10.0.0.5"],
        AUTH_PROXY_AGENT_GROUP="staff",
        AUTH_PROXY_MANAGER_GROUP="desk-managers",
        AUTH_PROXY_ADMIN_GROUP="points-admins",
    )
    headers = {"X-Forwarded-User": "pat", "X-Forwarded-Groups": groups}
    client = app.test_client()
    env = {"REMOTE_ADDR": "10.0.0.5"}
    assert client.get("/", headers=headers, environ_base=env).status_code == 200
    assert client.get("/admin/audit", headers=headers, environ_base=env).status_code == audit
    assert client.get("/admin/staff", headers=headers, environ_base=env).status_code == staff


def test_nobody_can_edit_or_delete_an_audit_record_from_the_browser(role_app):
    for rule in role_app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods - {"HEAD", "OPTIONS"} <= {"GET", "POST"}, rule.rule
            assert not rule.arguments, rule.rule  # no route addresses one record
    client = sign_in(role_app.test_client(), ADMIN)
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.open("/admin/audit", method=method).status_code == 405


def test_the_nav_shows_each_role_its_pages(role_app):
    links = {}
    for role, name in STAFF.items():
        page = soup(sign_in(role_app.test_client(), name).get("/"))
        links[role] = {a["href"] for a in page.select("nav.site-nav a")}
    assert "/admin/audit" not in links["agent"] and "/admin/staff" not in links["agent"]
    assert "/admin/audit" in links["manager"] and "/admin/staff" not in links["manager"]
    assert {"/admin/audit", "/admin/staff", "/admin/trail"} <= links["admin"]
    assert all("/account" in found for found in links.values())
