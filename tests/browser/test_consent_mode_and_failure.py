"""Google Consent Mode ordering, and failing closed when the service cannot answer."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CONSENT_COOKIE

pytestmark = pytest.mark.browser

DENIED_DEFAULT = {
    "ad_storage": "denied",
    "ad_user_data": "denied",
    "ad_personalization": "denied",
    "analytics_storage": "denied",
    "functionality_storage": "denied",
    "personalization_storage": "denied",
    "security_storage": "granted",
    "wait_for_update": 500,
}


def test_the_denied_default_comes_first_and_tags_follow_the_update(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    calls = visitor.consent_calls()
    assert calls[0] == ["consent", "default", DENIED_DEFAULT]
    assert visitor.data_layer()[0] == calls[0]  # before anything else on the page
    assert calls[1][1] == "update" and calls[1][2]["analytics_storage"] == "denied"

    visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_selector("html[data-ran-analytics]")
    entries = visitor.data_layer()
    granted = next(
        i
        for i, e in enumerate(entries)
        if e[:2] == ["consent", "update"] and e[2]["analytics_storage"] == "granted"
    )
    page_view = entries.index({"event": "demo_analytics_page_view"})
    assert granted < page_view
    assert set(entries[granted][2].values()) == {"granted"}


def test_a_returning_visitor_gets_the_update_on_every_page(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Accept all")
    visitor.reload()
    calls = visitor.consent_calls()
    assert [c[1] for c in calls] == ["default", "update"]
    assert calls[1][2]["ad_storage"] == "granted"


@pytest.mark.parametrize("outage", ["unreachable", "error"])
def test_the_widget_fails_closed_when_the_service_cannot_answer(shop, outage):
    visitor = shop(expect_errors=True)

    def fail(route):
        if outage == "unreachable":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=503, content_type="application/problem+json", body="{}")

    visitor.page.route("**/v1/banner?*", fail)
    visitor.page.goto(f"{visitor.url}/demo/?region=US-CA")  # opt-out: would run tags by default
    visitor.page.wait_for_function(
        "() => { let s; __gpp('ping', (d) => { s = d.cmpStatus; }); return s === 'error'; }"
    )
    assert visitor.page.evaluate("window.consent.get()") is None
    assert visitor.consent_calls() == [["consent", "default", DENIED_DEFAULT]]
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert visitor.banner.count() == 0
    assert visitor.cookie_names() == set()


def test_a_choice_the_service_did_not_record_grants_nothing(shop):
    visitor = shop(expect_errors=True)
    visitor.page.route("**/v1/consents*", lambda route: route.abort("connectionrefused"))
    visitor.visit("?region=FR")
    visitor.click("Accept all")
    visitor.page.wait_for_function("() => window.__changes.some((c) => c.reason === 'choice')")
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert CONSENT_COOKIE not in visitor.cookie_names()
    visitor.reload()
    assert visitor.banner.is_visible()  # asked again: nothing was recorded
