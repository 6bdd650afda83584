"""The admin's layout in a real browser at a desktop and a phone width (issue #17 item 10):
every section in the navigation, every section's page within the screen, charts that fill
their column with every label inside, a properties editor shorter than a screenful of
screens, axe-clean, under the strict CSP (a violation fails the test through the ``shop``
fixture). Full-page screenshots are kept in the test's tmp dir as artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import url_for

from admin.sections import SECTIONS
from tests.browser.admin_support import admin_account
from tests.browser.admin_support import no_violations
from tests.browser.admin_support import sign_in

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 800), "phone": (375, 667)}
# The home page, the property editor, and every section's own page (one layout for them all).
PAGES = {
    "home": "/admin/",
    "property-editor": "/admin/properties/demo-shop",
}


def _every_page(live_server: Any) -> dict[str, str]:
    with live_server.app.test_request_context():
        sections = {s.endpoint.split(".")[1]: url_for(s.endpoint) for s in SECTIONS}
    return {**PAGES, **sections}


def _signed_in_at(shop: Any, live_server: Any, size: str) -> Any:
    page = shop().page
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, *admin_account(live_server, "admin"))
    return page


def _overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _too_wide(page: Any) -> list[str]:
    """The innermost elements that reach past the screen's right edge, to say what to fix."""
    return list(
        page.evaluate(
            """[...document.querySelectorAll('main *')]
              .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
              .filter((el) => ![...el.children].some(
                (c) => c.getBoundingClientRect().right > window.innerWidth + 0.5))
              .slice(0, 5).map((el) => el.outerHTML.slice(0, 120))"""
        )
    )


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_the_screen_lists_every_section_and_is_axe_clean(
    shop, live_server, tmp_path: Path, size: str
):
    page = _signed_in_at(shop, live_server, size)
    for name, path in _every_page(live_server).items():
        page.goto(f"{live_server.url}{path}")
        nav = page.get_by_role("navigation", name="Admin sections")
        for section in SECTIONS:
            assert nav.get_by_role("link", name=section.title, exact=True).is_visible(), (
                name,
                section.title,
            )
        assert _overflow(page) <= 0, (name, _too_wide(page))
        page.screenshot(path=str(tmp_path / f"{size}-{name}.png"), full_page=True)
        no_violations(page)


@pytest.mark.parametrize("size", SIZES)
def test_charts_fill_their_column_with_the_last_date_and_the_legend_inside(
    shop, live_server, tmp_path: Path, size: str
):
    page = _signed_in_at(shop, live_server, size)
    page.goto(f"{live_server.url}/admin/dashboard/")
    charts = page.locator("svg.chart")
    assert charts.count() >= 2  # by jurisdiction only once a jurisdiction has choices
    for index in range(charts.count()):
        chart = charts.nth(index)
        box = chart.bounding_box()
        column = chart.locator("xpath=..").bounding_box()
        assert abs(box["width"] - column["width"]) < 1  # no fixed 460 px
        for label in chart.locator("text").all():
            inner = label.bounding_box()
            assert box["x"] - 0.5 <= inner["x"] and inner["x"] + inner["width"] <= (
                box["x"] + box["width"] + 0.5
            ), label.text_content()
    rates = charts.first
    hundred = rates.locator("text", has_text="100%").bounding_box()
    for legend in rates.locator("text", has_text="analytics").all():
        assert legend.bounding_box()["y"] + legend.bounding_box()["height"] <= hundred["y"]
    page.get_by_text("The numbers behind the chart, day by day").first.click()
    assert page.locator("#rates-data").is_visible()
    page.screenshot(path=str(tmp_path / f"{size}-dashboard-charts.png"), full_page=True)


def test_the_properties_editor_is_no_longer_one_huge_page(shop, live_server, tmp_path: Path):
    page = _signed_in_at(shop, live_server, "desktop")
    page.goto(f"{live_server.url}/admin/properties/demo-shop")
    parts = page.get_by_role("navigation", name="Parts of Northwind Outfitters")
    parts.get_by_role("link", name="Banner texts: de").click()
    page.wait_for_url("**/admin/properties/demo-shop?part=texts-de")
    assert page.get_by_label("Customize").first.is_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3200, height  # one language's texts; all three made 5,900 px
    page.screenshot(path=str(tmp_path / "desktop-properties-de.png"), full_page=True)
    no_violations(page)
