"""A publisher edits the privacy policy, compares it, and publishes it, in a real browser;
axe-core finds nothing on the policy pages, the dashboard, the campaigns and erasures pages."""

from __future__ import annotations

import pytest

from tests.browser.admin_support import admin_account
from tests.browser.admin_support import no_violations
from tests.browser.admin_support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def publisher(live_server):
    return admin_account(live_server, "publisher")


def test_a_publisher_edits_compares_and_publishes_a_policy(shop, live_server, publisher):
    # The cookie policy: publishing the privacy policy (the consent document) would change
    # what every other browser test's visitors are asked.
    page = shop().page
    sign_in(page, live_server.url, *publisher)
    page.goto(f"{live_server.url}/admin/policies/")
    no_violations(page)
    page.get_by_role("link", name="New draft of Cookie Policy").click()
    page.get_by_label("Policy text (Markdown)").fill("# Cookie Policy\n\nVersion 3: shorter.\n")
    # The live preview follows the typing (no click), sanitised and demoted under its h2.
    page.locator(".preview p", has_text="Version 3: shorter.").wait_for()
    assert page.locator(".preview h3").inner_text() == "Cookie Policy"
    no_violations(page)
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Show the differences").click()
    assert page.locator("ins").count() > 0
    no_violations(page)
    page.go_back()
    page.get_by_role("link", name="Publish this draft…").click()
    assert "Not a material change" in page.locator("main").inner_text()
    no_violations(page)
    page.get_by_role("button", name="Publish version 3").click()
    assert "Published version 3." in page.locator("main").inner_text()
    assert page.get_by_role("heading", level=1).inner_text().endswith("version 3")


def test_the_dashboard_campaign_and_erasure_pages_are_accessible(shop, live_server, publisher):
    page = shop().page
    sign_in(page, live_server.url, *publisher)
    page.goto(f"{live_server.url}/admin/dashboard/")
    assert page.locator("svg[role=img]").count() >= 2  # per jurisdiction only with data
    no_violations(page)
    page.goto(f"{live_server.url}/admin/campaigns/")
    no_violations(page)
    page.goto(f"{live_server.url}/admin/erasures/")
    no_violations(page)


def test_the_integrations_page_is_accessible(shop, live_server):
    email, secret = admin_account(live_server, "admin")
    page = shop().page
    sign_in(page, live_server.url, email, secret)
    page.goto(f"{live_server.url}/admin/integrations/")
    no_violations(page)
