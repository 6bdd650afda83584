"""The purposes & vendors pages in a real browser: axe-core finds nothing on the overview, a
purpose's editor and a vendor's editor. Read-only: other browser tests share the live
server's database and banner."""

from __future__ import annotations

import pytest

from tests.browser.admin_support import admin_account
from tests.browser.admin_support import no_violations
from tests.browser.admin_support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(live_server):
    return admin_account(live_server, "editor")


def test_the_purposes_and_vendor_pages_are_accessible(shop, live_server, editor):
    page = shop().page
    sign_in(page, live_server.url, *editor)
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="Purposes & vendors"
    ).click()
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
