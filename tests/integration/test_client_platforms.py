"""The client looks decisions up from the real app over real HTTP and builds every ad
platform's server-side consent fields from them: the recipes of docs/integrations.md
("Server-side conversion APIs") end to end, up to the request body they would send."""

from __future__ import annotations

import uuid

import pytest

from consent_client import DEFAULT_PLATFORM_MAPPING
from consent_client import ConsentClient
from consent_client import Reason
from consent_client import amazon_events_api
from consent_client import ga4_measurement_protocol
from consent_client import google_ads
from consent_client import mapping_from_banner
from consent_client import meta_conversions_api
from consent_client import microsoft_conversions_api
from tests.integration.live_app import LiveApp
from tests.support import demo_consent

PURPOSES = ["necessary", "preferences", "analytics", "marketing", "advertising"]
AD_PLATFORMS = (google_ads, meta_conversions_api, amazon_events_api, microsoft_conversions_api)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = LiveApp(tmp_path_factory.mktemp("client-platforms-live"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def client(live):
    key, _ = live.api_key("consent:read")
    with ConsentClient(live.url, key, timeout=10) as consent:
        yield consent


def visitor_who_chose(live: LiveApp, region: str, **decisions: bool) -> str:
    visitor_id = uuid.uuid4()
    live.post(f"/v1/consents?region={region}", demo_consent(visitor_id, **decisions))
    return f"visitor:{visitor_id}"


def test_an_eu_visitor_who_allowed_only_analytics_reaches_ga4_and_no_ad_platform(live, client):
    subject = visitor_who_chose(live, "DE", analytics=True, marketing=False, advertising=False)
    decisions = client.decisions([subject], PURPOSES)[subject]
    assert decisions["advertising"].reason is Reason.DENIED

    ga4 = ga4_measurement_protocol(decisions)
    body = {"client_id": "555.1", **ga4.fields, "events": [{"name": "purchase"}]}
    assert body["consent"] == {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}
    assert (ga4.send, ga4.user_data) == (True, False)
    for build in AD_PLATFORMS:
        assert build(decisions).send is False, build.__name__


def test_an_eu_visitor_who_allowed_everything_reaches_every_platform(live, client):
    subject = visitor_who_chose(live, "FR", marketing=True, advertising=True)
    decisions = client.decisions([subject], PURPOSES)[subject]

    assert ga4_measurement_protocol(decisions).fields == {
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}
    }
    conversion = {"gclid": "Cj0-test", "conversionValue": 42.0, **google_ads(decisions).fields}
    assert conversion["consent"] == {"adUserData": "GRANTED"}
    meta = meta_conversions_api(decisions)
    assert (meta.fields, meta.user_data) == ({"data_processing_options": []}, True)
    amazon_event = {"name": "purchase", **amazon_events_api(decisions).fields}
    assert amazon_event["consent"]["amazonConsent"] == {
        "amznAdStorage": "GRANTED",
        "amznUserData": "GRANTED",
    }
    assert microsoft_conversions_api(decisions).fields == {"adStorageConsent": "G"}


def test_a_partial_choice_sends_what_it_allows_and_nothing_else(live, client):
    subject = visitor_who_chose(live, "DE", analytics=False, marketing=True, advertising=False)
    decisions = client.decisions([subject], PURPOSES)[subject]
    assert ga4_measurement_protocol(decisions).send is False
    assert google_ads(decisions).fields == {"consent": {"adUserData": "GRANTED"}}
    assert amazon_events_api(decisions).fields["consent"]["amazonConsent"] == {
        "amznAdStorage": "DENIED",
        "amznUserData": "GRANTED",
    }
    assert meta_conversions_api(decisions).send is False
    assert microsoft_conversions_api(decisions).send is False


def test_a_californians_grant_reaches_every_platform_until_the_live_gpc_signal(live, client):
    subject = visitor_who_chose(live, "US-CA", marketing=True, advertising=True)
    plain = client.decisions([subject], PURPOSES)[subject]
    assert all(build(plain).send for build in AD_PLATFORMS)

    with_gpc = client.decisions([subject], PURPOSES, gpc=True)[subject]
    assert with_gpc["advertising"].reason is Reason.GPC
    assert not any(build(with_gpc).send for build in AD_PLATFORMS)
    ldu = meta_conversions_api(with_gpc, limited_data_use=True)
    assert ldu.fields == {
        "data_processing_options": ["LDU"],
        "data_processing_options_country": 1,
        "data_processing_options_state": 1000,
    }
    assert ldu.user_data is False


def test_the_mapping_can_follow_the_live_banner_and_matches_the_default(live, client):
    banner = live.get("/v1/banner?property=demo-shop")
    assert DEFAULT_PLATFORM_MAPPING.with_consent_mode(mapping_from_banner(banner)) == (
        DEFAULT_PLATFORM_MAPPING
    )
    mapping = DEFAULT_PLATFORM_MAPPING.with_banner(banner)
    assert mapping == DEFAULT_PLATFORM_MAPPING
    subject = visitor_who_chose(live, "DE", marketing=True)
    decisions = client.decisions([subject], PURPOSES)[subject]
    assert google_ads(decisions, mapping).send is True


def test_a_service_that_refuses_the_key_sends_nothing_anywhere(live):
    subject = visitor_who_chose(live, "DE", marketing=True, advertising=True)
    with ConsentClient(live.url, "csk_000000000000_" + "x" * 43, timeout=10) as refused:
        decisions = refused.decisions([subject], PURPOSES)[subject]
    assert {d.reason for d in decisions.values()} == {Reason.ERROR}
    for build in (ga4_measurement_protocol, *AD_PLATFORMS):
        result = build(decisions)
        assert (result.send, result.fields) == (False, {}), build.__name__
