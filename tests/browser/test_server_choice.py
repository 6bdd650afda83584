"""The widget checks its cookie against the service's record of the visitor: a withdrawal made
elsewhere (the preferences page, a shop backend) reaches the shop's pages, an erased visitor
starts afresh; and the preferences layer links to the self-service page."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.models import Subject
from consent_service.models.base import utcnow
from tests.browser.conftest import CONSENT_COOKIE

pytestmark = pytest.mark.browser

MANAGE = "Manage all choices, receipts and your data"
RECEIPT_KEY = "localStorage.getItem('consent_receipt_demo-shop')"


def cookie_value(visitor) -> str | None:
    found = [c["value"] for c in visitor.page.context.cookies() if c["name"] == CONSENT_COOKIE]
    return found[0] if found else None


def withdraw_elsewhere(live_server, granted: dict) -> str:
    """A withdrawal recorded for the same visitor, not through this page (on the policy
    version the grant cited: other tests may have published newer ones since)."""
    response = live_server.app.test_client().post(
        "/v1/consents",
        json={
            "property": "demo-shop",
            "visitor_id": granted["visitor_id"],
            "policy_version": granted["policy"]["version"],
            "method": "withdrawal",
        },
    )
    assert response.status_code == 201, response.json
    receipt_id: str = response.json["receipt_id"]
    return receipt_id


def erase(live_server, visitor_id: str) -> None:
    with live_server.app.app_context():
        db.session.execute(
            sa.update(Subject)
            .where(Subject.visitor_id == uuid.UUID(visitor_id))
            .values(erased_at=utcnow())
        )
        db.session.commit()
        db.session.remove()


def test_a_withdrawal_recorded_elsewhere_stops_the_tags_on_the_next_page(shop, live_server):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")

    withdrawal = withdraw_elsewhere(live_server, granted)
    visitor.reload()
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert visitor.page.evaluate("window.consent.get()")["analytics"] is False
    value = cookie_value(visitor)
    assert value is not None and withdrawal in value and granted["visitor_id"] in value
    assert visitor.banner.count() == 0  # a withdrawal is an answer: not asked again
    assert visitor.page.evaluate(RECEIPT_KEY) is None  # the kept receipt is not the current one


def test_an_erased_visitor_is_forgotten_and_asked_again(shop, live_server):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    erase(live_server, granted["visitor_id"])

    visitor.reload()
    assert visitor.banner.is_visible()
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert cookie_value(visitor) is None
    assert visitor.page.evaluate(RECEIPT_KEY) is None
    again = visitor.choose_and_wait("Reject all")
    assert again["visitor_id"] != granted["visitor_id"]  # a new visitor id


def test_the_widget_fails_closed_when_the_visitors_choice_cannot_be_checked(shop):
    visitor = shop(expect_errors=True)
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Accept all")
    visitor.page.route("**/v1/visitors/*/choice?*", lambda route: route.abort("connectionrefused"))
    visitor.page.reload()
    visitor.page.wait_for_function(
        "() => { let s; __gpp('ping', (d) => { s = d.cmpStatus; }); return s === 'error'; }"
    )
    assert visitor.page.evaluate("window.consent.get()") is None
    assert not visitor.ran("analytics") and not visitor.ran("ads")


def test_the_manage_link_signs_a_stored_visitor_in_to_the_preferences_page(shop, live_server):
    visitor = shop(expect_errors=True)  # the page itself may not be there yet (a 404)
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Reject all")
    visitor.reopen_preferences()
    link = visitor.preferences.get_by_role("link", name=MANAGE)
    assert link.get_attribute("href") == f"{live_server.url}/preferences/?property=demo-shop"
    target = f"{live_server.url}/preferences/visit?token="
    # Asserted on the navigation itself: the page it opens may redirect (or not exist yet).
    with visitor.page.expect_request(
        lambda request: request.is_navigation_request() and request.url.startswith(target)
    ) as navigation:
        link.click()
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(navigation.value.url).query)["token"]
    assert token and token[0]


def navigates_to(visitor, url: str):
    return visitor.page.expect_request(
        lambda request: request.is_navigation_request() and request.url == url
    )


def test_the_manage_link_sends_a_visitor_without_a_choice_to_sign_in(shop, live_server):
    visitor = shop(expect_errors=True)
    visitor.visit("?region=FR")
    visitor.click("Choose purposes")
    visitor.preferences.get_by_role("link", name=MANAGE).focus()
    with navigates_to(visitor, f"{live_server.url}/preferences/?property=demo-shop"):
        visitor.page.keyboard.press("Enter")  # a real link: the keyboard follows it


def test_the_manage_link_falls_back_to_sign_in_when_no_link_can_be_made(shop, live_server):
    visitor = shop(expect_errors=True)
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Reject all")
    visitor.page.route("**/v1/preferences/link", lambda route: route.abort("connectionrefused"))
    visitor.reopen_preferences()
    with navigates_to(visitor, f"{live_server.url}/preferences/?property=demo-shop"):
        visitor.preferences.get_by_role("link", name=MANAGE).click()
