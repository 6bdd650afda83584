"""The consent token in a real browser: after every choice the widget keeps the service's token
in a first-party cookie the shop's servers receive (and ``window.consent.token()`` reads);
a withdrawal replaces it with one that denies; a page load renews it near its end; erasure
removes it. Each token is verified as a shop server would, with ``consent_client``."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest

from consent_client import ConsentTokenClaims
from consent_client import ConsentTokenVerifier
from consent_client import allows
from consent_service.models.base import utcnow
from tests.browser.conftest import TOKEN_COOKIE
from tests.browser.test_server_choice import erase
from tests.browser.test_server_choice import withdraw_elsewhere

pytestmark = pytest.mark.browser

TTL = 900  # CONSENT_TOKEN_TTL's default


@pytest.fixture
def verifier(live_server):
    return ConsentTokenVerifier(live_server.url)


@pytest.fixture
def token_clock(live_server):
    """Moves the service's token clock (``iat``, ``exp``, the rule's now) by ``offset``."""

    class Clock:
        offset = dt.timedelta(0)

        def __call__(self) -> dt.datetime:
            return utcnow() + self.offset

    issuer = live_server.app.extensions["token_issuer"]
    clock, before = Clock(), issuer.clock
    issuer.clock = clock
    yield clock
    issuer.clock = before


def token_cookie(visitor, name: str = TOKEN_COOKIE) -> dict[str, Any] | None:
    found = [c for c in visitor.page.context.cookies() if c["name"] == name]
    return found[0] if found else None


def held(visitor, verifier, *, now: float | None = None) -> ConsentTokenClaims:
    """The token the page holds, as the shop's server would verify it from the cookie."""
    cookie = token_cookie(visitor)
    assert cookie is not None, "no consent token cookie"
    assert visitor.page.evaluate("window.consent.token()") == cookie["value"]
    return verifier.verify_consent_token(cookie["value"], property="demo-shop", now=now)


def test_after_accepting_the_cookie_holds_a_token_that_grants(shop, verifier):
    visitor = shop()
    visitor.visit("?region=FR")
    assert visitor.page.evaluate("window.consent.token()") is None  # no choice, no token
    payload = visitor.choose_and_wait("Accept all")
    claims = held(visitor, verifier)
    assert claims.subject == payload["visitor_id"]
    assert claims.receipt_id == payload["receipt_id"]
    assert all(allows(claims, p) for p in ("analytics", "marketing", "advertising"))
    cookie = token_cookie(visitor)
    assert cookie is not None
    assert (cookie["sameSite"], cookie["path"], cookie["secure"]) == ("Lax", "/", False)
    assert cookie["httpOnly"] is False  # set by the page's script, so readable by it
    # Max-Age is the token's life: the cookie goes when the token ends.
    assert claims.issued_at.timestamp() + TTL - 60 < cookie["expires"] < time.time() + TTL + 1


def test_a_withdrawal_replaces_the_token_with_one_that_denies_at_once(shop, verifier):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Accept all")
    granted = token_cookie(visitor)
    visitor.reopen_preferences()
    payload = visitor.choose_and_wait("Reject all")
    assert payload["method"] == "withdrawal"
    claims = held(visitor, verifier)
    assert claims.receipt_id == payload["receipt_id"]
    assert [p for p in claims.decisions if allows(claims, p)] == ["necessary"]
    assert granted is not None and token_cookie(visitor) != granted


def test_a_page_load_renews_a_token_with_a_third_of_its_life_left(shop, verifier, token_clock):
    visitor = shop()
    visitor.visit("?region=FR")
    payload = visitor.choose_and_wait("Accept all")
    first = held(visitor, verifier)
    start = first.issued_at

    # Two minutes on, most of its life is left: the page keeps it.
    visitor.page.clock.set_fixed_time(start + dt.timedelta(minutes=2))
    token_clock.offset = start + dt.timedelta(minutes=2) - utcnow()
    visitor.reload()
    assert held(visitor, verifier).issued_at == start

    # Eleven minutes on, four of fifteen are left: the page-load look-up brings a new one.
    later = start + dt.timedelta(minutes=11)
    visitor.page.clock.set_fixed_time(later)
    token_clock.offset = later - utcnow()
    visitor.reload()
    renewed = held(visitor, verifier, now=later.timestamp())
    assert renewed.issued_at >= later - dt.timedelta(seconds=1)
    assert renewed.expires_at == renewed.issued_at + dt.timedelta(seconds=TTL)
    assert renewed.receipt_id == payload["receipt_id"]  # the same choice, re-signed
    assert allows(renewed, "analytics")


def test_a_withdrawal_made_elsewhere_reaches_the_token_on_the_next_page(
    shop, verifier, live_server
):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    withdrawal = withdraw_elsewhere(live_server, granted)
    visitor.reload()  # the token is young, but rests on a receipt that is no longer the latest
    claims = held(visitor, verifier)
    assert claims.receipt_id == withdrawal
    assert not allows(claims, "analytics")


def test_an_erased_visitor_loses_the_token(shop, live_server):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    assert token_cookie(visitor) is not None
    erase(live_server, granted["visitor_id"])
    visitor.reload()
    assert token_cookie(visitor) is None
    assert visitor.page.evaluate("window.consent.token()") is None


def test_the_shop_names_the_token_cookie_with_data_token_cookie(shop, verifier):
    visitor = shop()

    def named(route: Any) -> None:
        page = route.fetch()
        html = page.text().replace(
            'data-cookie="nw_consent"', 'data-cookie="nw_consent" data-token-cookie="nw_token"'
        )
        route.fulfill(response=page, body=html)

    visitor.page.route("**/demo/*", named)
    visitor.visit(f"?region=FR&v={uuid.uuid4().hex}")
    visitor.choose_and_wait("Accept all")
    assert token_cookie(visitor) is None
    cookie = token_cookie(visitor, "nw_token")
    assert cookie is not None
    assert visitor.page.evaluate("window.consent.token()") == cookie["value"]
    assert allows(verifier.verify_consent_token(cookie["value"], property="demo-shop"), "analytics")
