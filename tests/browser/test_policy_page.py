"""A published policy version, as a visitor following the banner's link sees it."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser


def test_the_banners_policy_link_opens_a_rendered_page_not_markdown(shop, live_server, tmp_path):
    visitor = shop()
    visitor.visit("?region=FR")
    with visitor.page.context.expect_page() as opened:
        visitor.banner.get_by_role("link", name="Privacy policy").click()
    page = opened.value
    page.wait_for_load_state()
    page.screenshot(path=tmp_path / "policy-page.png", full_page=True)  # kept as an artefact
    assert page.url.startswith(f"{live_server.url}/policies/demo-shop/privacy-policy/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".policy-body h2").count() > 0  # the policy's headings, as headings
    text = page.locator("main").inner_text()
    assert "##" not in text and "**" not in text
    # Other tests on the same server may have published since: compare with whichever is before.
    number = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_role("link", name=f"Compare with version {number - 1}").count() == 1
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_an_old_link_to_the_raw_text_opens_the_page_in_a_browser(shop, live_server):
    visitor = shop()
    visitor.page.goto(f"{live_server.url}/v1/policies/demo-shop/privacy-policy/2")
    assert visitor.page.url == f"{live_server.url}/policies/demo-shop/privacy-policy/2"
    assert visitor.page.locator(".policy-body h2").count() > 0
