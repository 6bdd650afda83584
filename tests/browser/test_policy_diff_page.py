"""The public policy diff, as a customer following the link in a notice sees it."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser


def test_the_diff_page_is_accessible_and_marks_the_changes(shop, live_server):
    visitor = shop()
    visitor.page.goto(f"{live_server.url}/policies/demo-shop/privacy-policy/diff/1..2")
    assert visitor.page.locator("h1").inner_text().endswith("what changed")
    assert visitor.page.locator("ins").count() > 0
    results = Axe().run(visitor.page)
    assert results.violations_count == 0, results.generate_report()
