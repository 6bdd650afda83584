"""The purposes & vendors pages in a real browser: axe-core finds nothing on the overview, a
purpose's editor and a vendor's editor. Read-only: other browser tests share the live
server's database and banner."""

from __future__ import annotations

import uuid

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.extensions import db
from tests.integration.test_admin_support import PASSWORD
from tests.integration.test_admin_support import make_admin

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(live_server):
    with live_server.app.app_context():
        user, secret = make_admin(
            db.session(),
            live_server.app.extensions["vault"],
            "editor",
            email=f"editor-{uuid.uuid4().hex[:8]}@example.com",
        )
        email = user.email
        db.session.remove()
    return email, secret


def sign_in(page, url, email, secret):
    page.goto(f"{url}/admin/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    if secret is None:  # a role without a required second factor
        page.wait_for_url("**/admin/")
        return
    page.wait_for_url("**/admin/sign-in/code")
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


def no_violations(page):
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_the_purposes_and_vendor_pages_are_accessible(shop, live_server, editor):
    page = shop().page
    sign_in(page, live_server.url, *editor)
    page.get_by_role("link", name="Purposes & vendors").click()
    page.wait_for_url("**/admin/purposes/")
    no_violations(page)
    page.get_by_role("link", name="analytics", exact=True).click()
    assert page.get_by_label("Name (de)").input_value() == "Statistik"
    no_violations(page)
    page.goto(f"{live_server.url}/admin/purposes/")
    page.get_by_role("link", name="Google Analytics 4").click()
    assert page.get_by_label("Name", exact=True).input_value() == "Google Analytics 4"
    assert page.get_by_label("Name of cookie 1").input_value() == "_ga"
    no_violations(page)
    page.goto(f"{live_server.url}/admin/purposes/")
    page.get_by_role("link", name="Add a vendor to Northwind Outfitters").click()
    no_violations(page)
