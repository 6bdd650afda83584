"""The synchronous stub in Chromium: with Google's standard gtag.js snippet ungated after it
("advanced" consent mode, a recording stand-in for gtag.js on another loopback port),
`consent default` is the first entry of dataLayer, before `js` and `config`; calls a page
makes on `window.consent` before the widget has loaded are kept and honoured."""

from __future__ import annotations

import pytest

from tests.browser.platform_pages import open_shop
from tests.browser.platform_pages import settle
from tests.browser.platform_pages import shop_page

pytestmark = pytest.mark.browser
# The fixtures `platforms`, `vendors` and `shop_site`.
pytest_plugins = ["tests.browser.platform_fixtures"]


def commands(visitor) -> list[str]:
    """dataLayer's commands in order: 'consent default', 'js', 'config', ..."""
    return list(
        visitor.page.evaluate(
            "dataLayer.filter((e) => e[0]).map((e) => Array.from(e).slice(0, 2).join(' '))"
        )
    )


def google_page(live_server, vendors, shop_site, *, stub: bool) -> str:
    path = "/google" if stub else "/google-without-stub"
    page = shop_page(live_server.url, vendors.url, ("google",), stub=stub)
    return shop_site.serve(path, page, "text/html")


def test_with_the_stub_the_consent_default_comes_before_googles_ungated_tag(
    shop, platforms, live_server, vendors, shop_site
):
    platforms()
    visitor = shop()
    open_shop(visitor, google_page(live_server, vendors, shop_site, stub=True) + "?region=FR")
    # gtag.js (the stand-in) found the default first when it loaded.
    assert settle(visitor, gtag=1)["gtag"][0][0] == "consent default"
    order = commands(visitor)
    assert order[0] == "consent default"
    assert order[1].startswith("js ") and order[2] == "config G-000000"
    assert order[3] == "consent update"  # the widget's, once it knows the visitor's choice
    assert order.count("consent default") == 1  # the widget does not push a second one
    default = visitor.page.evaluate("Array.from(dataLayer[0])[2]")
    assert default["ad_storage"] == "denied" and default["security_storage"] == "granted"


def test_without_the_stub_googles_ungated_tag_runs_before_any_default(
    shop, platforms, live_server, vendors, shop_site
):
    """Why the stub exists: the widget loads asynchronously, so an ungated Google tag's `js`
    and `config` come first, which Google's "advanced" consent mode does not allow."""
    platforms()
    visitor = shop()
    open_shop(visitor, google_page(live_server, vendors, shop_site, stub=False) + "?region=FR")
    order = commands(visitor)
    assert order[0].startswith("js ") and order[1] == "config G-000000"
    assert order[2:] == ["consent default", "consent update"]


def test_calls_made_before_the_widget_loads_are_kept_for_it(
    shop, platforms, live_server, vendors, shop_site
):
    platforms()
    early = """<script>
  window.__early = [];
  window.__late = [];
  consent.on('change', (detail) => __early.push(detail.reason));
  const dropped = consent.on('change', () => __early.push('dropped'));
  dropped();  // unsubscribed while still queued
  window.__offLate = consent.on('change', (detail) => __late.push(detail.reason));
  __early.push('get:' + consent.get());
  consent.open();
</script>"""
    page = shop_page(live_server.url, vendors.url, (), before_widget=early)
    visitor = shop()
    open_shop(visitor, shop_site.serve("/early", page, "text/html") + "?region=FR")
    visitor.preferences.wait_for()  # consent.open() was honoured once the widget was ready
    assert visitor.page.evaluate("__early") == ["get:null", "load"]
    assert visitor.page.evaluate("__late") == ["load"]
    visitor.page.evaluate("__offLate()")  # unsubscribed after the widget adopted it
    visitor.choose_and_wait("Reject all")
    assert visitor.page.evaluate("__early") == ["get:null", "load", "choice"]
    assert visitor.page.evaluate("__late") == ["load"]


def test_a_second_widget_tag_beside_the_stub_changes_nothing(
    shop, platforms, live_server, vendors, shop_site
):
    platforms()
    page = shop_page(live_server.url, vendors.url, (), widget_tags=2)
    url = shop_site.serve("/twice", page, "text/html")
    visitor = shop()
    open_shop(visitor, url + "?region=FR")
    visitor.banner.wait_for()
    assert visitor.banner.count() == 1 and visitor.reopen.count() == 1
    assert commands(visitor).count("consent default") == 1
