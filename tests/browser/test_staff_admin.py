"""An admin adds an agent in the browser; the agent sets a password through the one-time link
and signs in. The staff pages, the report and the account page pass axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.axe_support import axe_violations
from tests.browser.conftest import SCREENSHOTS, sign_in

NEW_PASSWORD = "a passphrase of my own"


def _add_agent(admin_page, username: str) -> str:
    """Add username as an agent through the staff pages; return the setup link's path."""
    admin_page.get_by_role("link", name="Staff", exact=True).click()
    admin_page.get_by_role("link", name="Add a member of staff").click()
    admin_page.get_by_label("User name").fill(username)
    admin_page.get_by_label("Role").select_option("agent")
    admin_page.get_by_role("button", name="Continue").click()
    expect(admin_page.locator("#confirm-question")).to_have_text(f"Add {username} as agent?")
    admin_page.get_by_role("button", name="Add account").click()
    expect(admin_page.get_by_role("heading", name=f"Give {username} this link")).to_be_visible()
    link = admin_page.locator("#setup-link").input_value()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    admin_page.screenshot(path=str(SCREENSHOTS / "staff-setup-link.png"))
    return urlsplit(link).path


def test_an_admin_adds_an_agent_who_then_signs_in(admin_page, new_context):
    username = f"new.agent.{uuid.uuid4().hex[:8]}"
    path = _add_agent(admin_page, username)

    newcomer = new_context().new_page()
    newcomer.goto(path)
    expect(newcomer.locator("#setup-username")).to_have_text(username)
    newcomer.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    newcomer.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.locator(".flash")).to_have_text("Your password is set. Sign in with it now.")
    sign_in(newcomer, username, NEW_PASSWORD)
    expect(newcomer.locator("nav .staff-name")).to_have_text(username)
    # An agent: no audit or staff pages in the navigation.
    expect(newcomer.get_by_role("link", name="Audit")).to_have_count(0)

    # The admin sees the account as active, and the change in the admin trail.
    admin_page.get_by_role("link", name="Staff", exact=True).click()
    row = admin_page.locator("tr.staff-row", has_text=username)
    expect(row.locator(".staff-state")).to_have_text("active")
    admin_page.get_by_role("link", name="Admin trail").first.click()
    expect(admin_page.locator("tr.trail-row", has_text=username).first).to_be_visible()

    # The link was for one use only.
    again = new_context().new_page()
    response = again.goto(path)
    assert response.status == 404


def test_locking_in_the_browser_ends_the_agents_session(admin_page, new_context):
    username = f"lock.me.{uuid.uuid4().hex[:8]}"
    path = _add_agent(admin_page, username)
    agent = new_context().new_page()
    agent.goto(path)
    agent.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    agent.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    agent.get_by_role("button", name="Set password").click()
    sign_in(agent, username, NEW_PASSWORD)

    admin_page.get_by_role("link", name="Staff", exact=True).click()
    admin_page.get_by_role("link", name=username).click()
    admin_page.get_by_role("button", name="Lock").click()
    admin_page.get_by_role("button", name="Lock").click()  # the confirmation
    expect(admin_page.locator("#staff-state")).to_have_text("locked")

    agent.reload()
    expect(agent.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_new_pages_pass_axe(admin_page):
    for path in (
        "/admin/staff",
        "/admin/staff/new",
        "/admin/trail",
        "/account",
        "/admin/audit/member?member_id=700000001",
    ):
        admin_page.goto(path)
        assert axe_violations(admin_page) == [], path
    # An account's page, and a confirmation.
    admin_page.goto("/admin/staff")
    admin_page.locator("tr.staff-row .staff-username a").first.click()
    assert axe_violations(admin_page) == [], "account page"
    admin_page.get_by_role("button", name="Reset password").click()
    expect(admin_page.locator("#confirm-question")).to_contain_text("Reset")
    assert axe_violations(admin_page) == [], "confirmation page"
