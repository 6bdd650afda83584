"""Identity linking is visible to integrations (issue #17, item 5): when linking a browser
changes a customer's effective answer, a receiver that keys on ``customer_ref`` (as the docs
recommend) hears of it; when the link comes before the choice's event is sent, that event
carries the customer. Real HTTP: the API, and a webhook receiver on a loopback port."""

from __future__ import annotations

import json
import uuid

import pytest

from consent_service.messaging.webhooks import verify
from consent_service.messaging.worker import build_worker
from consent_service.models.base import utcnow
from tests.webhook_receiver import register


@pytest.fixture
def linker(api_key):
    return api_key("subjects:write")


@pytest.fixture
def subscribed(app, session, receiver):
    registered = register(app, session, receiver.url, ("consent.changed",))
    session.commit()
    return registered


@pytest.fixture
def deliver(app, session):
    def _deliver():
        worker = build_worker(
            session, vault=app.extensions["vault"], allow_private_networks=True, clock=utcnow
        )
        return worker.run(once=True)

    return _deliver


def _link(client, linker, visitor: uuid.UUID, customer: str) -> None:
    response = client.post(
        "/v1/subjects/link", json={"visitor_id": str(visitor), "customer": customer}, headers=linker
    )
    assert response.status_code == 200, response.json


def _events(receiver, subscribed) -> list[dict]:
    events = []
    for request in receiver.requests:
        verify(subscribed.secret, request.body, request.headers)
        events.append(json.loads(request.body)["data"])
    return events


def test_rejecting_in_a_new_browser_then_linking_tells_the_receiver_about_the_customer(
    client, linker, receiver, subscribed, deliver, consent_via_widget
):
    old_browser, new_browser = uuid.uuid4(), uuid.uuid4()
    consent_via_widget(old_browser, marketing=True, analytics=True)
    _link(client, linker, old_browser, "c-shop-1")
    deliver()
    # The customer refuses everything there, not yet known to that browser.
    consent_via_widget(new_browser, preferences=False, analytics=False, marketing=False)
    deliver()
    assert _events(receiver, subscribed)[-1]["customer_ref"] is None  # sent before the link
    _link(client, linker, new_browser, "c-shop-1")
    deliver()
    linked = _events(receiver, subscribed)[-1]
    assert linked["customer_ref"] == "c-shop-1"
    assert linked["visitor_id"] == str(new_browser)
    assert linked["decisions"]["marketing"] == "denied"
    assert linked["decisions"]["analytics"] == "denied"
    assert set(linked["changed_purposes"]) == {"preferences", "analytics", "marketing"}


def test_a_link_before_the_choice_is_sent_makes_that_event_the_customers_and_adds_none(
    client, linker, receiver, subscribed, deliver, consent_via_widget
):
    browser = uuid.uuid4()
    recorded = consent_via_widget(browser, marketing=True)
    _link(client, linker, browser, "c-shop-2")  # the widget links right after the choice
    deliver()
    (event,) = _events(receiver, subscribed)
    assert event["receipt_id"] == recorded["receipt_id"]
    assert event["customer_ref"] == "c-shop-2"


def test_a_link_that_leaves_the_customers_answer_as_it_was_sends_nothing(
    client, linker, receiver, subscribed, deliver, consent_via_widget
):
    older, newer = uuid.uuid4(), uuid.uuid4()
    consent_via_widget(older, analytics=True)
    consent_via_widget(newer, analytics=True)
    _link(client, linker, newer, "c-shop-3")
    deliver()
    sent = len(receiver.requests)
    _link(client, linker, older, "c-shop-3")  # an older, identical choice
    deliver()
    assert len(receiver.requests) == sent


def test_linking_a_browser_that_never_chose_sends_nothing(
    client, linker, receiver, subscribed, deliver
):
    _link(client, linker, uuid.uuid4(), "c-shop-4")
    deliver()
    assert receiver.requests == []


def test_linking_the_same_browser_again_sends_nothing_more(
    client, linker, receiver, subscribed, deliver, consent_via_widget
):
    browser = uuid.uuid4()
    consent_via_widget(browser, marketing=True)
    _link(client, linker, browser, "c-shop-5")
    deliver()
    _link(client, linker, browser, "c-shop-5")
    deliver()
    assert len(receiver.requests) == 1
