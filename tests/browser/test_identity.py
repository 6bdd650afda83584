"""A signed-in customer's page passes the backend's identity token on, and only that links."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.integrations.identity import customer_ref_of
from consent_service.models import Identity
from consent_service.models import Subject

pytestmark = pytest.mark.browser
LINKED = "() => localStorage.getItem('consent_identified_demo-shop') !== null"


def customer_of(live_server, visitor_id: str) -> str | None:
    with live_server.app.app_context():
        identity = db.session.scalar(
            sa.select(Identity)
            .join(Subject, Subject.identity_id == Identity.id)
            .where(Subject.visitor_id == uuid.UUID(visitor_id))
        )
        vault = live_server.app.extensions["vault"]
        found = None if identity is None else customer_ref_of(vault, identity)
        db.session.remove()
        return found


def test_a_signed_in_customers_choice_is_linked_to_them(shop, live_server):
    visitor = shop()
    visitor.visit("?customer=c-77")
    payload = visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_function(LINKED)
    assert customer_of(live_server, payload["visitor_id"]) == "c-77"


def test_a_signed_in_customers_first_choice_is_recorded_only_once_the_browser_is_linked(
    shop, live_server
):
    """Issue #17 item 5: the widget knows the customer at choice time, so the receipt (and its
    consent.changed event, whose customer_ref is the subject's customer) is theirs from the
    start, not linked after it and patched up."""
    visitor = shop()
    seen: list[str] = []
    visitor.page.on("request", lambda r: seen.append(f"sent {r.method} {r.url.split('?')[0]}"))
    visitor.page.on(
        "response", lambda r: seen.append(f"answered {r.request.method} {r.url.split('?')[0]}")
    )
    visitor.visit("?customer=c-80")
    payload = visitor.choose_and_wait("Reject all")
    linked = seen.index(f"answered POST {live_server.url}/v1/identity")
    assert linked < seen.index(f"sent POST {live_server.url}/v1/consents"), seen
    assert seen.count(f"sent POST {live_server.url}/v1/identity") == 1, seen
    assert customer_of(live_server, payload["visitor_id"]) == "c-80"


def test_a_choice_is_still_recorded_when_linking_fails(shop, live_server):
    visitor = shop(expect_errors=True)  # the refused request is logged on the console
    visitor.page.route(f"{live_server.url}/v1/identity", lambda route: route.abort())
    visitor.visit("?customer=c-81")
    payload = visitor.choose_and_wait("Accept all")
    assert payload["decisions"]["analytics"] == "granted"
    assert customer_of(live_server, payload["visitor_id"]) is None


def test_a_first_choice_uses_the_visitor_id_the_token_was_made_for(shop):
    visitor = shop()
    visitor.visit("?customer=c-79")
    offered = visitor.page.locator("script[data-visitor-id]").get_attribute("data-visitor-id")
    payload = visitor.choose_and_wait("Accept all")
    assert payload["visitor_id"] == offered


def test_a_returning_visitor_is_linked_when_they_sign_in_later(shop, live_server):
    visitor = shop()
    visitor.visit()
    payload = visitor.choose_and_wait("Reject all")
    assert customer_of(live_server, payload["visitor_id"]) is None
    visitor.visit("?customer=c-78")
    visitor.page.wait_for_function(LINKED)
    assert customer_of(live_server, payload["visitor_id"]) == "c-78"


def test_an_anonymous_visitor_is_linked_to_nobody(shop, live_server):
    visitor = shop()
    visitor.visit()
    payload = visitor.choose_and_wait("Accept all")
    visitor.reload()
    assert visitor.page.evaluate(LINKED.replace("() => ", "")) is False
    assert customer_of(live_server, payload["visitor_id"]) is None
