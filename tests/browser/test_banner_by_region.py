"""The banner each region gets, as a visitor's browser shows it (region chosen with the
development-only ``?region=``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

GPC_HONOURED = "Global Privacy Control signal was honoured"


def test_france_is_opt_in_with_refusal_as_prominent_as_acceptance(shop):
    visitor = shop()
    visitor.visit("?region=FR")
    buttons = visitor.banner.get_by_role("button")
    assert buttons.all_inner_texts() == ["Accept all", "Reject all", "Choose purposes"]
    accept, reject = (
        visitor.banner.get_by_role("button", name=n) for n in ("Accept all", "Reject all")
    )
    assert accept.get_attribute("class") == reject.get_attribute("class")
    assert accept.bounding_box()["height"] == reject.bounding_box()["height"]
    assert not visitor.ran("analytics") and not visitor.ran("ads")

    visitor.click("Choose purposes")
    switches = visitor.preferences.get_by_role("switch")
    assert [s.is_checked() for s in switches.all()] == [True, False, False, False, False]
    assert switches.first.is_disabled()  # strictly necessary: always on


def test_an_unknown_region_gets_the_strictest_banner(shop):
    visitor = shop()
    visitor.visit()
    assert visitor.page.evaluate("window.__changes[0].jurisdiction") == "unknown"
    assert visitor.banner.get_by_role("button", name="Reject all").is_visible()
    assert visitor.page.evaluate("window.consent.get()")["analytics"] is False
    assert not visitor.ran("analytics")


def test_california_is_opt_out_with_its_links(shop):
    visitor = shop()
    visitor.visit("?region=US-CA")
    assert visitor.banner.is_visible()
    # 11 CCR §7004(a)(2): opting out is offered beside accepting, on the first layer.
    assert visitor.banner.get_by_role("button", name="Opt out", exact=True).is_visible()
    link = visitor.banner.get_by_role("button", name="Do Not Sell or Share My Personal Information")
    assert link.is_visible()
    # Opt-out: processing runs until the visitor objects.
    assert visitor.ran("analytics") and visitor.ran("ads")
    assert GPC_HONOURED not in visitor.banner.inner_text()
    assert visitor.gpp_ping()["gppString"] == "DBABLA~CVQqAAAAAACA.QA"

    link.click()  # the opt-out link opens the choices with sale and sharing already off
    switches = {
        key: visitor.page.locator(f"#cw-p-{key}").is_checked()
        for key in ("analytics", "marketing", "advertising")
    }
    assert switches == {"analytics": True, "marketing": False, "advertising": False}


def test_california_with_gpc_switches_off_sale_and_sharing_without_asking(shop):
    visitor = shop(gpc=True)
    visitor.visit("?region=US-CA")
    assert visitor.ran("analytics") and not visitor.ran("ads")
    decisions = visitor.page.evaluate("window.consent.get()")
    assert (decisions["marketing"], decisions["advertising"]) == (False, False)

    ping = visitor.gpp_ping()
    assert ping["gppString"] == "DBABLA~CVQVAAAAAACA.YA"
    assert ping["applicableSections"] == [7]
    assert ping["cmpId"] == 1
    assert ping["parsedSections"]["usnat"][1] == {"SubsectionType": 1, "Gpc": True}

    # The opt-out is recorded without asking (issue #12: GPC is a server-side fact), and the
    # recorded choice answers the banner's question.
    visitor.page.wait_for_function("() => window.__changes.some((c) => c.receiptId)")
    payload = visitor.receipt_payload()
    assert payload["method"] == "gpc" and payload["gpc"] is True
    assert payload["decisions"]["advertising"] == "denied"
    assert payload["decisions"]["analytics"] == "granted"
    assert visitor.banner.count() == 0
    assert not visitor.ran("ads")

    visitor.reopen_preferences()
    assert GPC_HONOURED in visitor.preferences.inner_text()
    advertising = visitor.page.locator("#cw-p-advertising")
    assert advertising.is_disabled() and not advertising.is_checked()


def test_gpc_changes_nothing_where_the_law_does_not_give_it_effect(shop):
    visitor = shop(gpc=True)
    visitor.visit("?region=FR")
    assert GPC_HONOURED not in visitor.banner.inner_text()
    payload = visitor.choose_and_wait("Accept all")
    assert payload["decisions"]["advertising"] == "granted"
    assert visitor.gpp_ping()["applicableSections"] == [-1]  # GPP is for US visitors


def test_the_banner_speaks_the_page_language(shop):
    visitor = shop()
    visitor.visit("?region=DE&lang=de")
    assert visitor.banner.get_attribute("lang") == "de"
    assert visitor.banner.get_by_role("button", name="Alle ablehnen").is_visible()


def test_a_right_to_left_language_mirrors_the_banner(shop):
    visitor = shop()

    def as_rtl(route):
        config = route.fetch().json()
        route.fulfill(json={**config, "direction": "rtl", "locale": "ar"})

    visitor.page.route("**/v1/banner?*", as_rtl)
    visitor.visit("?region=FR")
    assert visitor.banner.get_attribute("dir") == "rtl"
    accept = visitor.banner.get_by_role("button", name="Accept all").bounding_box()
    choose = visitor.banner.get_by_role("button", name="Choose purposes").bounding_box()
    assert accept["x"] > choose["x"]  # the first action sits on the right
