"""The widget embedded by a shop on another origin, as in production: the banner is fetched
and the choice posted across origins (CORS), and the choice cookie is the shop's own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.models import Property
from tests.browser.conftest import CONSENT_COOKIE

pytestmark = pytest.mark.browser


def allow_origin(live_server, origin: str) -> None:
    with live_server.app.app_context():
        session = db.session()
        shop = session.scalar(sa.select(Property).where(Property.key == "demo-shop"))
        shop.allowed_origins = [*shop.allowed_origins, origin]
        session.commit()


def test_a_shop_on_another_origin_records_choices_through_cors(shop, live_server):
    # "localhost" and "127.0.0.1" are two origins, both on the loopback network.
    origin = live_server.url.replace("127.0.0.1", "localhost")
    allow_origin(live_server, origin)
    visitor = shop()
    visitor.visit("?region=FR", origin=origin)
    payload = visitor.choose_and_wait("Accept all")
    assert payload["method"] == "accept_all"
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")
    consent_cookie = next(c for c in visitor.page.context.cookies() if c["name"] == CONSENT_COOKIE)
    assert consent_cookie["domain"] == "localhost"  # first-party to the shop


def test_an_origin_the_property_does_not_list_records_nothing_and_grants_nothing(shop, live_server):
    visitor = shop(expect_errors=True)  # the refused request is logged by the browser
    visitor.visit("?region=FR", origin=live_server.url.replace("127.0.0.1", "elsewhere.localhost"))
    visitor.click("Accept all")
    visitor.page.wait_for_function("() => window.__changes.some((c) => c.reason === 'choice')")
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert CONSENT_COOKIE not in visitor.cookie_names()
