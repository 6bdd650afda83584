"""The admin in a real browser: signing in with a password and a TOTP code, creating a user
through the Users page, and axe-core on each page, all under the admin's strict CSP (a
violation would be logged to the console and fail the test)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.models import AdminUser
from tests.browser.admin_support import admin_account as new_account
from tests.browser.admin_support import no_violations
from tests.browser.admin_support import password_step
from tests.browser.admin_support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_account(live_server):
    """A new admin with a second factor, in the live server's database: (email, secret)."""
    return new_account(live_server, "admin")


def _nav(page, name):
    return page.get_by_role("navigation", name="Admin sections").get_by_role("link", name=name)


def test_an_admin_signs_in_with_password_and_totp(shop, live_server, admin_account):
    visitor = shop()
    email, secret = admin_account
    sign_in(visitor.page, live_server.url, email, secret)
    assert visitor.page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert _nav(visitor.page, "Users").is_visible()

    visitor.page.get_by_role("button", name="Sign out").click()
    visitor.page.wait_for_url("**/admin/sign-in")
    visitor.page.goto(f"{live_server.url}/admin/")
    assert visitor.page.url.endswith("/admin/sign-in")


def test_an_admin_creates_a_user_through_the_users_page(shop, live_server, admin_account):
    visitor = shop()
    email, secret = admin_account
    sign_in(visitor.page, live_server.url, email, secret)
    page = visitor.page
    _nav(page, "Users").click()
    new_email = f"editor-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Email").fill(new_email)
    page.get_by_label("Name").fill("Eddie Editor")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Create user").click()
    assert page.get_by_role("heading", name="User created").is_visible()
    assert len(page.locator("#generated-password").inner_text()) >= 20

    page.get_by_role("link", name="Back to the users").click()
    assert page.get_by_role("rowheader", name=new_email).is_visible()
    with live_server.app.app_context():
        created = db.session.scalar(sa.select(AdminUser).where(AdminUser.email == new_email))
        assert created is not None and created.role == "editor"
        db.session.remove()


def test_axe_finds_no_violation_on_the_sign_in_and_code_pages(shop, live_server, admin_account):
    visitor = shop()
    email, _ = admin_account
    visitor.page.goto(f"{live_server.url}/admin/sign-in")
    no_violations(visitor.page)
    password_step(visitor.page, live_server.url, email)
    visitor.page.wait_for_url("**/admin/sign-in/code")
    no_violations(visitor.page)


def test_axe_finds_no_violation_on_the_users_and_audit_pages(shop, live_server, admin_account):
    visitor = shop()
    email, secret = admin_account
    sign_in(visitor.page, live_server.url, email, secret)
    visitor.page.goto(f"{live_server.url}/admin/users/")
    no_violations(visitor.page)
    visitor.page.goto(f"{live_server.url}/admin/audit/")
    assert visitor.page.get_by_role("cell", name="admin_user.create").first.is_visible()
    no_violations(visitor.page)
