"""The ad platforms' adapters and the shop platforms' bridges in Chromium, on a shop of its own
origin whose tags are recording stand-ins for each vendor's documented JavaScript surface
(``platform_pages.py``): each platform's default before its tag, its update on the first
decisions, after accepting, refusing, withdrawing and with GPC, and nothing at all where the
property does not enable it. The demo shop's purposes map to the platforms by default:
advertising -> UET, Clarity's ad_Storage, Amazon's ad storage; marketing and advertising ->
Meta, TikTok, Shopify's and WordPress's marketing; analytics -> Clarity's analytics_Storage,
Shopify's analytics, WordPress's statistics; necessary -> WordPress's functional."""

from __future__ import annotations

import pytest

from tests.browser.platform_pages import EVERY_PLATFORM
from tests.browser.platform_pages import open_shop
from tests.browser.platform_pages import settle
from tests.browser.platform_pages import shop_page
from tests.browser.platform_pages import vendor_log

pytestmark = pytest.mark.browser
# The fixtures `platforms`, `vendors` and `shop_site`.
pytest_plugins = ["tests.browser.platform_fixtures"]

DENY_ALL = "analytics=deny marketing=deny preferences=deny sale_of_data=deny"
ALLOW_ALL = "analytics=allow marketing=allow preferences=allow sale_of_data=allow"
CATEGORIES = ("functional", "preferences", "statistics", "statistics-anonymous", "marketing")


def wp_sets(type_: str, **values: str) -> list[str]:
    return [f"set:{category}:{values.get(category, 'deny')}:{type_}" for category in CATEGORIES]


@pytest.fixture
def every_platform_page(live_server, vendors, shop_site):
    return shop_site.serve(
        "/every-platform", shop_page(live_server.url, vendors.url, EVERY_PLATFORM), "text/html"
    )


def first_visit(visitor, url):
    """The page on a first visit in France (opt-in): everything but the essential refused."""
    open_shop(visitor, url + "?region=FR")
    return settle(
        visitor,
        uet=2,
        uetLoaded=1,
        clarity=2,
        fbq=2,
        fbqInit=1,
        ttq=2,
        ttqPage=1,
        amzn=1,
        shopify=2,
        wp=7,
    )


def test_every_platform_is_denied_before_its_tag_and_then_told_the_first_decisions(
    shop,
    platforms,
    every_platform_page,
):
    platforms(*EVERY_PLATFORM)
    visitor = shop()
    trace = first_visit(visitor, every_platform_page)
    # The stub queued UET's, Clarity's and TikTok's denied defaults before their tags ran:
    # each tag found them first in its queue.
    assert vendor_log(visitor, "uet")[0] == ["consent", "default", {"ad_storage": "denied"}]
    assert vendor_log(visitor, "uet").index(["pageLoad"]) > 0
    assert vendor_log(visitor, "clarity")[0] == [
        "consentv2",
        {"ad_Storage": "denied", "analytics_Storage": "denied"},
    ]
    assert vendor_log(visitor, "ttq")[:2] == [["holdConsent"], ["page"]]
    # Meta's base code still ran (the widget never defines fbq): its own revoke came first.
    assert vendor_log(visitor, "fbq")[:3] == [
        ["consent", "revoke"],
        ["init", "000000"],
        [
            "track",
            "PageView",
        ],
    ]
    # WordPress plugins found an opt-in consent type before anything was decided.
    assert trace["wp"][0] == "loaded:optin"
    # Then the first decisions, for a first visit in France: refused.
    assert trace["uet"] == ["default:denied", "update:denied"]
    assert trace["clarity"] == ["denied/denied", "denied/denied"]
    assert trace["fbq"] == ["revoke", "revoke"]
    assert trace["ttq"] == ["holdConsent", "revokeConsent"]
    assert trace["amzn"] == ["FR:deny:deny"]
    assert trace["shopify"] == ["loadFeatures:consent-tracking-api", DENY_ALL]
    assert trace["wp"][1:] == [*wp_sets("optin", functional="allow"), "type_defined:optin"]


def test_accepting_grants_every_platform_the_next_page_says_so_and_withdrawing_denies(
    shop,
    platforms,
    every_platform_page,
):
    platforms(*EVERY_PLATFORM)
    visitor = shop()
    first_visit(visitor, every_platform_page)
    visitor.choose_and_wait("Accept all")
    trace = settle(visitor, uet=3, clarity=3, fbq=3, ttq=3, amzn=2, shopify=3, wp=12)
    assert trace["uet"][2:] == ["update:granted"]
    assert trace["clarity"][2:] == ["granted/granted"]
    assert trace["fbq"][2:] == ["grant"]
    assert trace["ttq"][2:] == ["grantConsent"]
    assert trace["amzn"][1:] == ["FR:allow:allow"]
    assert trace["shopify"][2:] == [ALLOW_ALL]
    allowed = dict.fromkeys(CATEGORIES, "allow")
    assert trace["wp"][7:] == wp_sets("optin", **allowed)  # the type is announced once

    # The next page: the defaults first again, then the stored choice.
    visitor.page.reload()
    visitor.page.wait_for_function("() => window.consent.get() !== null")
    trace = settle(visitor, uet=2, clarity=2, fbq=2, ttq=2, amzn=1, shopify=2, wp=7)
    assert trace["uet"] == ["default:denied", "update:granted"]
    assert trace["clarity"] == ["denied/denied", "granted/granted"]
    assert trace["fbq"] == ["revoke", "grant"]
    assert trace["ttq"] == ["holdConsent", "grantConsent"]
    assert trace["amzn"] == ["FR:allow:allow"]
    assert trace["shopify"][1:] == [ALLOW_ALL]

    visitor.reopen_preferences()
    assert visitor.choose_and_wait("Reject all")["method"] == "withdrawal"
    # Refusals apply at once, then again once recorded: the last word is a refusal.
    trace = settle(visitor, uet=4, clarity=4, fbq=4, ttq=4, amzn=3, shopify=4, wp=17)
    assert trace["uet"][-1] == "update:denied"
    assert trace["clarity"][-1] == "denied/denied"
    assert trace["fbq"][-1] == "revoke"
    assert trace["ttq"][-1] == "revokeConsent"
    assert trace["amzn"][-1] == "FR:deny:deny"
    assert trace["shopify"][-1] == DENY_ALL
    assert trace["wp"][-5:] == wp_sets("optin", functional="allow")


def test_refusing_keeps_every_platform_denied(shop, platforms, every_platform_page):
    platforms(*EVERY_PLATFORM)
    visitor = shop()
    first_visit(visitor, every_platform_page)
    assert visitor.choose_and_wait("Reject all")["method"] == "reject_all"
    trace = settle(visitor, uet=3, clarity=3, fbq=3, ttq=3, amzn=2, shopify=3, wp=12)
    assert trace["uet"][2:] == ["update:denied"]
    assert trace["clarity"][2:] == ["denied/denied"]
    assert trace["fbq"][2:] == ["revoke"]
    assert trace["ttq"][2:] == ["revokeConsent"]
    assert trace["amzn"][1:] == ["FR:deny:deny"]
    assert trace["shopify"][2:] == [DENY_ALL]
    assert trace["wp"][7:] == wp_sets("optin", functional="allow")


def test_gpc_in_california_switches_off_what_sells_or_shares_on_every_platform(
    shop,
    platforms,
    every_platform_page,
):
    platforms(*EVERY_PLATFORM)
    visitor = shop(gpc=True)
    open_shop(visitor, every_platform_page + "?region=US-CA")
    # Opt-out: analytics and preferences on by default; GPC switches marketing and
    # advertising (sale, sharing) off, and the widget records it (a second, equal update).
    visitor.page.wait_for_function("() => window.__changes.some((c) => c.receiptId)")
    trace = settle(visitor, uet=3, clarity=3, fbq=3, ttq=3, amzn=2, shopify=2, wp=12)
    assert trace["uet"] == ["default:denied", "update:denied", "update:denied"]
    assert trace["clarity"][1:] == ["denied/granted", "denied/granted"]
    assert trace["fbq"] == ["revoke", "revoke", "revoke"]
    assert trace["ttq"] == ["holdConsent", "revokeConsent", "revokeConsent"]
    assert trace["amzn"] == ["US:deny:deny", "US:deny:deny"]
    gpc_shopify = "analytics=allow marketing=deny preferences=allow sale_of_data=deny"
    # Shopify's API loads once; it hears the latest decisions when it is there (once or twice,
    # as the recorded GPC choice arrives before or after it).
    assert trace["shopify"][0] == "loadFeatures:consent-tracking-api"
    assert set(trace["shopify"][1:]) == {gpc_shopify}
    on = {"functional": "allow", "preferences": "allow", "statistics": "allow"}
    on["statistics-anonymous"] = "allow"
    assert trace["wp"][0] == "loaded:optin"  # the stub's default, before the region is known
    assert trace["wp"][1:7] == [*wp_sets("optout", **on), "type_defined:optout"]
    assert trace["wp"][7:] == wp_sets("optout", **on)


def test_a_property_that_enables_no_platform_tells_them_nothing(
    shop,
    platforms,
    every_platform_page,
):
    platforms()  # none: only the shop's origin allowed
    visitor = shop()
    requested = []
    visitor.page.on("request", lambda request: requested.append(request.url))
    open_shop(visitor, every_platform_page + "?region=FR")
    visitor.page.wait_for_load_state("load")  # when a missed platform would be told again
    trace = settle(
        visitor, uetLoaded=1, clarityLoaded=1, fbqInit=1, ttqPage=1, amznLoaded=1, storefront=1
    )
    assert trace["uet"] == [] and trace["clarity"] == [] and trace["ttq"] == []
    assert trace["fbq"] == ["revoke"]  # the shop's own line, nothing from the widget
    assert trace["amzn"] == [] and trace["shopify"] == []
    assert trace["wp"] == ["loaded:(none)"]  # no consent type was set
    assert not any("/v1/widget-ads.js" in url for url in requested)
    visitor.choose_and_wait("Accept all")
    trace = visitor.page.evaluate("__consentTrace()")
    assert trace["uet"] == [] and trace["fbq"] == ["revoke"] and trace["shopify"] == []
    assert trace["wp"] == ["loaded:(none)"]


def test_only_the_enabled_platforms_are_told(shop, platforms, every_platform_page):
    platforms("microsoft_clarity", "wp_consent")
    visitor = shop()
    open_shop(visitor, every_platform_page + "?region=FR")
    visitor.page.wait_for_load_state("load")
    trace = settle(visitor, clarity=2, wp=7, uetLoaded=1, ttqPage=1, amznLoaded=1, storefront=1)
    assert trace["clarity"] == ["denied/denied", "denied/denied"]
    assert trace["wp"][0] == "loaded:optin"
    assert trace["uet"] == [] and trace["ttq"] == [] and trace["amzn"] == []
    assert trace["fbq"] == ["revoke"] and trace["shopify"] == []


def test_a_headless_storefront_is_told_once_it_announces_shopifys_api(
    shop,
    platforms,
    live_server,
    vendors,
    shop_site,
):
    """Hydrogen's useCustomerPrivacy loads the Customer Privacy API itself and announces it
    with the shopifyCustomerPrivacyApiLoaded event: there is no Shopify.loadFeatures."""
    platforms("shopify")
    url = shop_site.serve("/headless", shop_page(live_server.url, vendors.url, ()), "text/html")
    visitor = shop()
    open_shop(visitor, url + "?region=FR")
    visitor.page.wait_for_load_state("load")
    assert visitor.page.evaluate("__consentTrace().shopify") == []  # nothing to tell yet
    visitor.page.evaluate(
        """(src) => new Promise((resolve) => {
          const api = document.createElement('script');
          api.src = src;
          api.onload = () => {
            document.dispatchEvent(new CustomEvent('shopifyCustomerPrivacyApiLoaded'));
            resolve();
          };
          document.head.appendChild(api);
        })""",
        vendors.url + "/consent-tracking-api.js",
    )
    assert settle(visitor, shopify=1)["shopify"] == [DENY_ALL]
    visitor.choose_and_wait("Accept all")
    assert settle(visitor, shopify=2)["shopify"] == [DENY_ALL, ALLOW_ALL]


def test_a_platform_that_throws_blocks_neither_the_others_nor_the_tags(
    shop,
    platforms,
    live_server,
    vendors,
    shop_site,
):
    platforms("amazon_ads", "microsoft_uet")
    page = shop_page(
        live_server.url,
        vendors.url,
        ("microsoft_uet",),
        before_widget=(
            "<script>window.amznConsent = () => { throw new Error('Amazon broke'); };</script>\n"
            '<script type="text/plain" data-consent="advertising" '
            f'src="{vendors.url}/record-ran.js"></script>'
        ),
    )
    vendors.serve(
        "/record-ran.js",
        "document.documentElement.setAttribute('data-ran-ads', '');",
        "text/javascript",
    )
    url = shop_site.serve("/throwing", page, "text/html")
    visitor = shop(expect_errors=True)
    open_shop(visitor, url + "?region=FR")
    visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_selector("html[data-ran-ads]")  # the tag ran
    assert settle(visitor, uet=3)["uet"][-1] == "update:granted"
    assert any("Amazon broke" in problem for problem in visitor.problems)  # reported


def test_without_the_stub_the_widget_fetches_the_adapters_and_they_hear_every_change(
    shop, platforms, live_server, vendors, shop_site
):
    """A page that forgot the stub: no default before the tags (the README says why the stub
    comes first), but the enabled platforms are still told the decisions and a withdrawal."""
    platforms("microsoft_uet", "tiktok_pixel")
    page = shop_page(live_server.url, vendors.url, ("microsoft_uet", "tiktok_pixel"), stub=False)
    visitor = shop()
    open_shop(visitor, shop_site.serve("/no-stub", page, "text/html") + "?region=FR")
    trace = settle(visitor, uet=1, ttq=1)
    assert trace["uet"][-1] == "update:denied" and trace["ttq"][-1] == "revokeConsent"
    visitor.choose_and_wait("Accept all")
    trace = settle(visitor, uet=2, ttq=2)
    assert trace["uet"][-1] == "update:granted" and trace["ttq"][-1] == "grantConsent"
    visitor.reopen_preferences()
    visitor.choose_and_wait("Reject all")
    trace = settle(visitor, uet=3, ttq=3)
    assert trace["uet"][-1] == "update:denied" and trace["ttq"][-1] == "revokeConsent"
