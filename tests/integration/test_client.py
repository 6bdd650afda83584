"""``consent_client`` against the real app over real HTTP, failing closed when the service
refuses its key. Failing closed against what is not a working service at all (down, silent,
broken) is the client's own suite's: clients/python/tests/test_failing_closed.py."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from client_fakes import assert_fails_closed

from consent_client import DEMO_SHOP_CONSENT_MODE
from consent_client import ConsentClient
from consent_client import Reason
from consent_client import consent_mode
from consent_client import mapping_from_banner
from consent_client import sign_identity_token
from consent_service.extensions import db
from consent_service.models import Identity
from tests.integration.live_app import LiveApp
from tests.support import demo_consent


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = LiveApp(tmp_path_factory.mktemp("client-live"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def api_key(live):
    key, _ = live.api_key("consent:read", "subjects:write")
    return key


@pytest.fixture
def client(live, api_key):
    with ConsentClient(live.url, api_key, timeout=10) as consent:
        yield consent


@pytest.fixture
def visitor(live):
    """A visitor who accepted preferences and analytics and refused marketing and advertising."""
    visitor_id = uuid.uuid4()
    live.record_consent(visitor_id)
    return visitor_id


def unique_customer() -> str:
    return f"C-{uuid.uuid4().hex[:10]}"


# --- answers -----------------------------------------------------------------------------


def test_a_visitor_who_granted_analytics_may_be_processed_for_analytics(live, client):
    visitor_id = uuid.uuid4()
    receipt = live.record_consent(visitor_id, analytics=True)
    decision = client.decision(f"visitor:{visitor_id}", "analytics")
    assert (decision.allowed, decision.reason, decision.error) == (True, Reason.GRANTED, None)
    assert decision.receipt_id == receipt["receipt_id"]
    assert decision.policy_version == 2
    assert decision.expires_at is not None
    assert decision.expires_at > dt.datetime.now(dt.UTC)


def test_a_visitor_who_refused_marketing_may_not_be_processed_for_it(client, visitor):
    decision = client.decision(f"visitor:{visitor}", "marketing")
    assert (decision.allowed, decision.reason) == (False, Reason.DENIED)


def test_a_stranger_may_not_be_processed_for_anything_optional(client):
    decision = client.decision(f"customer:{unique_customer()}", "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.NO_RECORD)


def test_strictly_necessary_processing_is_allowed_for_anyone(client):
    decision = client.decision(f"customer:{unique_customer()}", "necessary")
    assert (decision.allowed, decision.reason) == (True, Reason.ESSENTIAL)


def test_a_customer_linked_to_a_visitor_gets_the_visitors_answers(client, visitor):
    customer = unique_customer()
    link = client.link(visitor_id=visitor, customer=customer)
    assert link.created is True
    assert link.subject_id is not None
    assert client.may_process(f"customer:{customer}", "analytics") is True
    assert client.may_process(f"customer:{customer}", "marketing") is False


def _locale_of(live, link_identity_id) -> str | None:
    with live.app.app_context():
        return db.session.get(Identity, link_identity_id).locale


def test_a_link_names_the_customers_language_for_their_emails(live, client, visitor):
    link = client.link(visitor_id=visitor, customer=unique_customer(), locale="de-AT")
    assert _locale_of(live, link.identity_id) == "de"  # one of the property's languages


def test_an_identity_token_from_the_stdlib_signer_carries_the_customers_language(
    live, client, visitor
):
    customer = unique_customer()
    token = sign_identity_token(
        live.identity_secret(), "demo-shop", visitor_id=visitor, customer=customer, locale="fr"
    )
    live.post(
        "/v1/identity",
        {"property": "demo-shop", "visitor_id": str(visitor), "identity_token": token},
    )
    link = client.link(visitor_id=visitor, customer=customer)  # finds the same customer
    assert _locale_of(live, link.identity_id) == "fr"


def test_an_email_subject_is_answered_through_the_body_in_any_letter_case(client, visitor):
    email = f"jane.{uuid.uuid4().hex[:8]}@example.com"
    client.link(visitor_id=visitor, email=email)
    decision = client.decision(f"email:{email.upper()}", "analytics")
    assert (decision.allowed, decision.reason) == (True, Reason.GRANTED)
    assert decision.subject == f"email:{email.upper()}"


def test_a_bulk_answer_agrees_with_the_single_answers(client, live, api_key):
    granted_all, refused_all = uuid.uuid4(), uuid.uuid4()
    live.record_consent(granted_all, marketing=True, advertising=True)
    live.record_consent(refused_all, preferences=False, analytics=False)
    subjects = [f"visitor:{granted_all}", f"visitor:{refused_all}", f"customer:{unique_customer()}"]
    purposes = ["analytics", "marketing", "advertising"]
    bulk = client.decisions(subjects, purposes)
    with ConsentClient(live.url, api_key, cache_ttl=0) as fresh:
        single = {s: {p: fresh.decision(s, p) for p in purposes} for s in subjects}
    assert bulk == single


def test_filter_allowed_keeps_only_the_subjects_who_allowed_the_purpose(client, live):
    yes, no = uuid.uuid4(), uuid.uuid4()
    live.record_consent(yes, marketing=True)
    live.record_consent(no, marketing=False)
    send_list = [f"visitor:{no}", f"visitor:{yes}", f"customer:{unique_customer()}"]
    assert client.filter_allowed(send_list, "marketing") == [f"visitor:{yes}"]


def test_the_guard_runs_order_analytics_only_for_customers_who_allowed_analytics(client, visitor):
    customer = unique_customer()
    client.link(visitor_id=visitor, customer=customer)
    tracked = []

    @client.requires("analytics", subject=lambda order: f"customer:{order['customer']}")
    def track(order):
        tracked.append(order["id"])

    track({"id": "o-1", "customer": customer})
    track({"id": "o-2", "customer": unique_customer()})
    assert tracked == ["o-1"]


def test_an_identity_token_from_the_stdlib_signer_links_the_visitor_through_the_widget_route(
    live, client, visitor
):
    customer = unique_customer()
    token = sign_identity_token(
        live.identity_secret(), "demo-shop", visitor_id=visitor, customer=customer
    )
    live.post(
        "/v1/identity",
        {"property": "demo-shop", "visitor_id": str(visitor), "identity_token": token},
    )
    assert client.may_process(f"customer:{customer}", "analytics") is True


def test_consent_mode_signals_follow_the_live_decisions_and_the_live_banners_mapping(live, client):
    visitor_id = uuid.uuid4()
    live.record_consent(visitor_id, marketing=False, advertising=True)
    assert mapping_from_banner(live.get("/v1/banner?property=demo-shop")) == DEMO_SHOP_CONSENT_MODE
    decisions = client.decisions([f"visitor:{visitor_id}"], ["marketing", "advertising"])
    signals = consent_mode(decisions[f"visitor:{visitor_id}"])
    assert (signals["ad_personalization"], signals["ad_user_data"]) == ("granted", "denied")


# --- failing closed ----------------------------------------------------------------------


def test_a_backend_recorded_opt_in_is_answered_at_once_despite_the_cache(live, client):
    key, _ = live.api_key("consent:read", "consent:write")
    customer = f"customer:{unique_customer()}"
    with ConsentClient(live.url, key, timeout=10) as writer:
        assert writer.may_process(customer, "marketing") is False  # now cached
        choice = {"preferences": False, "analytics": False, "advertising": False}
        receipt = writer.record(
            customer, policy_version=2, decisions={**choice, "marketing": True}, region="DE"
        )
        assert receipt["payload"]["decisions"]["marketing"] == "granted"
        assert writer.may_process(customer, "marketing") is True


def test_a_revoked_key_means_not_allowed(live, visitor):
    key, public_id = live.api_key("consent:read", name="soon revoked")
    with ConsentClient(live.url, key, cache_ttl=0) as client:
        assert client.may_process(f"visitor:{visitor}", "analytics") is True
        live.revoke(public_id)
        assert_fails_closed(client, "HTTP 401")


def test_a_key_without_the_read_scope_means_not_allowed(live):
    key, _ = live.api_key("subjects:write", name="linking only")
    with ConsentClient(live.url, key) as client:
        assert_fails_closed(client, "HTTP 403")


def test_a_purpose_the_shop_does_not_offer_means_not_allowed(client):
    decision = client.decision(f"customer:{unique_customer()}", "telepathy")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "HTTP 422" in (decision.error or "")


# --- the live GPC signal -------------------------------------------------------------------


def test_the_live_gpc_signal_denies_a_californians_grant_and_is_never_cached(live, client):
    visitor_id = uuid.uuid4()
    body = {**demo_consent(visitor_id, marketing=True)}
    live.post("/v1/consents?region=US-CA", body)
    subject = f"visitor:{visitor_id}"
    assert client.decision(subject, "marketing").reason is Reason.GRANTED  # now cached
    with_signal = client.decision(subject, "marketing", gpc=True)
    assert (with_signal.allowed, with_signal.reason) == (False, Reason.GPC)
    assert client.may_process(subject, "marketing") is True  # the GPC answer was not cached


def test_the_bulk_client_passes_the_live_gpc_signal_on(live, client):
    visitor_id = uuid.uuid4()
    live.post("/v1/consents?region=US-CA", demo_consent(visitor_id, marketing=True))
    subject = f"visitor:{visitor_id}"
    assert client.filter_allowed([subject], "marketing", gpc=True) == []
    assert client.filter_allowed([subject], "marketing") == [subject]
