"""What a choice does on the page: tagged scripts and iframes, cookies, the stored choice, the
receipt, and asking again when the policy changes."""

from __future__ import annotations

import re

import pytest

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.extensions import db
from tests.browser.conftest import CONSENT_COOKIE
from tests.browser.conftest import WIDGET_COOKIES

pytestmark = pytest.mark.browser

NON_ESSENTIAL_COOKIES = {"_ga", "_ga_DEMO42", "_fbp", "_gcl_au"}


def test_reject_all_runs_no_tagged_script_and_sets_no_tracking_cookie(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    payload = visitor.choose_and_wait("Reject all")
    assert payload["method"] == "reject_all"
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert visitor.cookie_names() == WIDGET_COOKIES
    assert visitor.page.locator("iframe.ad-frame").get_attribute("src") is None

    visitor.reload()
    assert visitor.banner.count() == 0
    assert visitor.reopen.is_visible()
    assert not visitor.ran("analytics")


def test_accept_all_runs_tagged_scripts_and_iframes_without_a_reload(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.page.evaluate("window.__samePage = true")
    payload = visitor.choose_and_wait("Accept all")
    assert payload["method"] == "accept_all"
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")
    assert visitor.page.evaluate("window.__samePage") is True
    assert visitor.page.locator("iframe.ad-frame").get_attribute("src").endswith("ad-frame.html")
    assert visitor.cookie_names() >= NON_ESSENTIAL_COOKIES
    cookie = next(c for c in visitor.page.context.cookies() if c["name"] == CONSENT_COOKIE)
    assert cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert payload["receipt_id"] in cookie["value"] and payload["visitor_id"] in cookie["value"]

    visitor.reload()  # the stored choice holds on the next page, without asking
    assert visitor.banner.count() == 0
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")


def test_a_custom_choice_runs_only_what_was_granted(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.click("Choose purposes")
    visitor.page.locator("#cw-p-analytics").check()
    payload = visitor.choose_and_wait("Save my choices")
    assert payload["method"] == "custom"
    assert payload["decisions"] == {
        "necessary": "granted",
        "preferences": "denied",
        "analytics": "granted",
        "marketing": "denied",
        "advertising": "denied",
    }
    visitor.page.wait_for_selector("html[data-ran-analytics]")
    assert not visitor.ran("ads")
    assert visitor.page.evaluate("window.consent.get()") == {
        "necessary": True,
        "preferences": False,
        "analytics": True,
        "marketing": False,
        "advertising": False,
    }


def test_withdrawing_is_one_click_away_and_clears_the_vendors_cookies(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")
    assert visitor.cookie_names() >= NON_ESSENTIAL_COOKIES

    visitor.reopen_preferences()
    payload = visitor.choose_and_wait("Reject all")
    assert payload["method"] == "withdrawal"
    assert visitor.cookie_names() == WIDGET_COOKIES
    assert visitor.page.locator("iframe.ad-frame").get_attribute("src") == "about:blank"
    last_update = visitor.consent_calls()[-1]
    assert last_update[1] == "update"
    assert set(last_update[2].values()) == {"granted", "denied"}
    assert last_update[2]["analytics_storage"] == "denied"


def test_tags_added_later_wait_for_their_purpose_too(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    add_frame = """(id) => {
        const frame = document.createElement('iframe');
        frame.id = id; frame.title = 'late'; frame.dataset.consent = 'advertising';
        frame.dataset.src = '/demo/static/ad-frame.html';
        document.body.append(frame);
    }"""
    visitor.page.evaluate(add_frame, "before")
    visitor.choose_and_wait("Accept all")
    visitor.page.evaluate(add_frame, "after")
    visitor.page.wait_for_function("() => document.getElementById('after').getAttribute('src')")
    assert visitor.page.locator("#before").get_attribute("src") == "/demo/static/ad-frame.html"


def test_a_material_policy_change_asks_again(shop, live_server):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Accept all")
    visitor.reload()
    assert visitor.banner.count() == 0

    with live_server.app.app_context():
        session = db.session()
        document = get_document(session, "demo-shop", "privacy-policy")
        draft = create_draft(session, document, "# Privacy policy v3\n", material=True)
        publish(session, draft)
        session.commit()
        published = draft.number  # 3, unless another test on this server published before

    visitor.reload()
    assert "We have updated our privacy policy" in visitor.banner.inner_text()
    assert not visitor.ran("analytics")  # an opt-in grant lapses with the policy it was given on
    payload = visitor.choose_and_wait("Accept all")
    assert payload["policy"]["version"] == published


def test_the_public_api_and_dom_events(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    first = visitor.page.evaluate("window.__changes[0]")
    assert first["reason"] == "load" and first["receiptId"] is None
    visitor.page.evaluate(
        "() => { window.__viaOn = []; consent.on('change', (d) => window.__viaOn.push(d.reason)); }"
    )
    visitor.choose_and_wait("Accept all")
    assert visitor.page.evaluate("window.__viaOn") == ["choice"]

    visitor.page.evaluate("window.consent.open()")
    visitor.preferences.wait_for()
    download = visitor.preferences.get_by_role("link", name="Download my consent receipt")
    assert download.get_attribute("download") == "consent-receipt.jws"
    policy = visitor.preferences.get_by_role("link", name="Privacy Policy")
    # The page people read (the receipts' /v1 URL keeps the bytes): issue 17, item 1.
    assert re.fullmatch(
        r"https?://[^/]+/policies/demo-shop/privacy-policy/\d+", policy.get_attribute("href")
    )
