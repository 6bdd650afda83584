"""The property editor in a real browser: its live preview runs the real widget for the
chosen region, and axe-core finds nothing on the editor. Only reads: other browser tests
share the live server's database."""

from __future__ import annotations

import pytest

from consent_service.extensions import db
from tests.browser.admin_support import admin_account
from tests.browser.admin_support import no_violations
from tests.browser.admin_support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(live_server):
    # Signs in with a second factor, as the test expects.
    return admin_account(live_server, "editor", enrolled=True)


def test_the_preview_shows_the_real_banner_for_the_chosen_region(shop, live_server, editor):
    page = shop().page
    sign_in(page, live_server.url, *editor)
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="Properties"
    ).click()
    page.get_by_role("link", name="demo-shop").click()
    assert page.get_by_label("Allowed origins", exact=False).input_value()
    no_violations(page)
    page.get_by_label("Region").select_option("US-CA")
    page.get_by_role("button", name="Show preview").click()
    frame = page.frame_locator("iframe[title*='US-CA']")
    banner = frame.locator("#cw-banner")
    banner.wait_for()
    assert banner.get_by_role(
        "button", name="Do Not Sell or Share My Personal Information"
    ).is_visible()
    no_violations(page)


@pytest.mark.parametrize(
    "option, locale, words",
    [
        ("Opt-in (France, FR)", "en", ("Your privacy choices", "with your permission")),
        ("Opt-out (California, US-CA)", "de", ("Ihre Datenschutz-Einstellungen", "verkauft")),
        ("Notice (Japan, JP)", "fr", ("Les cookies sur ce site", "selon vos réglages")),
    ],
)
def test_the_preview_shows_each_regimes_own_words(shop, live_server, editor, option, locale, words):
    page = shop().page
    sign_in(page, live_server.url, *editor)
    page.goto(f"{live_server.url}/admin/properties/demo-shop")
    page.get_by_label("Regime or region").select_option(label=option)
    page.get_by_label("Language", exact=True).select_option(locale)
    page.get_by_role("button", name="Show preview").click()
    region = option.rsplit(", ", 1)[1].rstrip(")")
    frame = page.frame_locator(f"iframe[title*='region {region} ']")
    banner = frame.locator("#cw-banner")
    banner.wait_for()
    title, phrase = words
    assert banner.get_by_role("heading").inner_text() == title
    assert phrase in banner.inner_text()
    for other in ("with your permission", "mit Ihrer Einwilligung", "avec votre accord"):
        if other != phrase:
            assert other not in banner.inner_text()


def test_a_click_in_the_preview_records_no_consent(shop, live_server, editor):
    import sqlalchemy as sa

    from consent_service.models import ConsentReceipt

    def receipts() -> int:
        with live_server.app.app_context():
            count = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentReceipt))
            db.session.remove()
            return int(count or 0)

    visitor = shop(expect_errors=True)  # the browser reports the blocked post as a CSP error
    page = visitor.page
    sign_in(page, live_server.url, *editor)
    before = receipts()
    page.goto(f"{live_server.url}/admin/properties/demo-shop/preview?region=FR&locale=en")
    page.locator("#cw-banner").get_by_role("button", name="Accept all").click()
    for _ in range(50):  # until the browser reports the post it blocked
        if any("Content Security Policy" in problem for problem in visitor.problems):
            break
        page.wait_for_timeout(100)
    assert any("Content Security Policy" in problem for problem in visitor.problems)
    assert receipts() == before
