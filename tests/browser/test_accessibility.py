"""Keyboard-only use, focus, Escape, and axe-core on both layers."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

ACTIVE = "document.activeElement"


def tab_to(visitor, description: str, predicate: str, limit: int = 40) -> None:
    """Presses Tab until ``predicate`` (JS about the focused element) holds."""
    for _ in range(limit):
        visitor.page.keyboard.press("Tab")
        if visitor.page.evaluate(f"(() => {{ const el = {ACTIVE}; return {predicate}; }})()"):
            return
    raise AssertionError(f"Tab never reached {description}")


def test_keyboard_only_visitor_can_choose_and_change_their_mind(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    assert visitor.page.evaluate(f"{ACTIVE}.id") == "cw-banner"  # focus moved in

    tab_to(visitor, "Choose purposes", "el.textContent === 'Choose purposes'")
    visitor.page.keyboard.press("Enter")
    visitor.preferences.wait_for()
    assert visitor.page.evaluate(f"!!{ACTIVE}.closest('dialog.cw-prefs')")  # focus moved in
    tab_to(visitor, "the analytics switch", "el.id === 'cw-p-analytics'")
    visitor.page.keyboard.press("Space")
    tab_to(visitor, "Save my choices", "el.textContent === 'Save my choices'")
    payload = visitor.recorded(lambda: visitor.page.keyboard.press("Enter"))
    assert payload["decisions"]["analytics"] == "granted"
    visitor.page.wait_for_selector("html[data-ran-analytics]")
    assert not visitor.ran("ads")
    # The layer it came from is gone, so focus lands on the way back in.
    assert visitor.page.evaluate(f"{ACTIVE}.classList.contains('cw-reopen')")

    visitor.page.keyboard.press("Enter")
    visitor.preferences.wait_for()
    assert visitor.page.locator("#cw-p-analytics").is_checked()
    visitor.page.keyboard.press("Escape")
    visitor.preferences.wait_for(state="detached")
    assert visitor.page.evaluate(f"{ACTIVE}.classList.contains('cw-reopen')")  # returned


def test_escape_puts_the_banner_away_without_consenting(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.page.keyboard.press("Escape")
    assert visitor.banner.count() == 0
    assert visitor.reopen.is_visible()
    assert visitor.cookie_names() == set()
    assert not visitor.ran("analytics")
    visitor.reload()
    assert visitor.banner.is_visible()  # nothing was decided, so it asks again


def test_the_dialogs_name_and_describe_themselves(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    banner = visitor.page.get_by_role("dialog", name="Your privacy choices")
    assert banner.get_attribute("aria-describedby") == "cw-description"
    assert banner.get_attribute("aria-modal") is None  # it does not trap focus
    visitor.click("Choose purposes")
    assert visitor.preferences.get_attribute("aria-modal") == "true"


@pytest.mark.parametrize("region", ["FR", "US-CA", "JP"])
def test_axe_finds_no_violation_in_either_layer(shop, region):
    visitor = shop()
    visitor.visit(f"?region={region}")
    axe = Axe()
    on_banner = axe.run(visitor.page, context="#cw-banner")
    assert on_banner.violations_count == 0, on_banner.generate_report()
    visitor.click("Choose purposes")
    visitor.preferences.wait_for()
    visitor.page.locator("dialog.cw-prefs details").first.evaluate("(d) => { d.open = true; }")
    on_preferences = axe.run(visitor.page, context="dialog.cw-prefs")
    assert on_preferences.violations_count == 0, on_preferences.generate_report()


def test_axe_finds_no_violation_in_the_opt_out_status_or_the_layer_gpc_locks(shop):
    # With GPC in California the opt-out is recorded without a banner: what stays on the page
    # is the privacy-choices button with its status, and the layer it opens.
    visitor = shop(gpc=True)
    visitor.visit("?region=US-CA")
    visitor.page.wait_for_function("() => window.__changes.some((c) => c.receiptId)")
    axe = Axe()
    on_status = axe.run(visitor.page, context="button.cw-reopen")
    assert on_status.violations_count == 0, on_status.generate_report()
    visitor.reopen_preferences()
    visitor.page.locator("dialog.cw-prefs details").first.evaluate("(d) => { d.open = true; }")
    on_preferences = axe.run(visitor.page, context="dialog.cw-prefs")
    assert on_preferences.violations_count == 0, on_preferences.generate_report()
