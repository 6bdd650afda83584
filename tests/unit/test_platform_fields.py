"""The consent fields of the ad platforms' server APIs, from decisions and the purpose ->
platform mapping: every platform, granted, denied, partial, unknown purposes and GPC, and
always failing closed."""

from __future__ import annotations

import json

import pytest

from consent_client import DEFAULT_PLATFORM_MAPPING
from consent_client import DEMO_SHOP_CONSENT_MODE
from consent_client import PLATFORM_SIGNALS
from consent_client import Decision
from consent_client import PlatformMapping
from consent_client import Reason
from consent_client import amazon_events_api
from consent_client import consent_mode
from consent_client import ga4_measurement_protocol
from consent_client import google_ads
from consent_client import meta_conversions_api
from consent_client import microsoft_conversions_api
from consent_client import platform_signals

EVERYTHING = {"necessary", "preferences", "analytics", "marketing", "advertising"}
BUILDERS = {
    "ga4": ga4_measurement_protocol,
    "google_ads": google_ads,
    "meta": meta_conversions_api,
    "amazon": amazon_events_api,
    "microsoft": microsoft_conversions_api,
}
AD_BUILDERS = {name: build for name, build in BUILDERS.items() if name != "ga4"}


def decision(purpose: str, allowed: bool, reason: Reason, jurisdiction: str = "EU") -> Decision:
    return Decision(
        allowed, reason, jurisdiction=jurisdiction, subject="visitor:x", purpose=purpose
    )


def us(jurisdiction: str, **opted_out: Reason) -> dict[str, Decision]:
    """A US visitor's five answers: allowed by default, denied for the purposes named."""
    return {
        purpose: decision(purpose, False, opted_out[purpose], jurisdiction)
        if purpose in opted_out
        else decision(purpose, True, Reason.OPT_OUT_DEFAULT, jurisdiction)
        for purpose in EVERYTHING
    }


# --- the mapping ---------------------------------------------------------------------------


def test_the_default_mappings_google_part_is_the_demo_shops_consent_mode():
    google = {
        purpose: platforms["google"]
        for purpose, platforms in DEFAULT_PLATFORM_MAPPING.purposes.items()
        if "google" in platforms
    }
    assert google == DEMO_SHOP_CONSENT_MODE


def test_the_default_mapping_grants_user_data_for_marketing_and_storage_for_advertising():
    purposes = DEFAULT_PLATFORM_MAPPING.purposes
    assert purposes["marketing"]["meta_pixel"] == ("consent",)
    assert purposes["marketing"]["amazon_ads"] == ("amzn_user_data",)
    assert purposes["advertising"]["meta_pixel"] == ("consent",)
    assert purposes["advertising"]["amazon_ads"] == ("amzn_ad_storage",)
    assert purposes["advertising"]["microsoft_uet"] == ("ad_storage",)
    for purpose in ("necessary", "preferences", "analytics"):
        assert set(purposes[purpose]) == {"google"}


@pytest.mark.parametrize(
    ("purposes", "error", "message"),
    [
        ({"ads": {"meta": ("consent",)}}, ValueError, "unknown platform 'meta'"),
        ({"ads": {"meta_pixel": ("grant",)}}, ValueError, "unknown meta_pixel signal(s) 'grant'"),
        ({"ads": {"google": ("ad_storage", "adstorage")}}, ValueError, "'adstorage'"),
        ({"ads": {"microsoft_uet": "ad_storage"}}, TypeError, "must be a list, not a str"),
        ({"ads": ["meta_pixel"]}, TypeError, "expected {platform: signals}"),
    ],
)
def test_a_mapping_with_an_unknown_platform_or_signal_is_refused_by_name(purposes, error, message):
    with pytest.raises(error) as raised:
        PlatformMapping(purposes)
    assert message in str(raised.value)
    assert "ads" in str(raised.value)


def test_with_purpose_replaces_only_the_named_platforms_of_that_purpose():
    mapping = DEFAULT_PLATFORM_MAPPING.with_purpose("advertising", microsoft_uet=())
    assert mapping.purposes["advertising"]["microsoft_uet"] == ()
    assert mapping.purposes["advertising"]["meta_pixel"] == ("consent",)
    assert DEFAULT_PLATFORM_MAPPING.purposes["advertising"]["microsoft_uet"] == ("ad_storage",)
    with_new = DEFAULT_PLATFORM_MAPPING.with_purpose("retargeting", microsoft_uet=["ad_storage"])
    assert with_new.granting("microsoft_uet", "ad_storage") == ("advertising", "retargeting")


def test_with_consent_mode_takes_googles_part_from_the_property_and_keeps_the_rest():
    banner_mapping = {"advertising": ("ad_storage",), "newsletter": ("ad_user_data",)}
    mapping = DEFAULT_PLATFORM_MAPPING.with_consent_mode(banner_mapping)
    assert mapping.granting("google", "ad_user_data") == ("newsletter",)
    assert mapping.granting("google", "ad_personalization") == ()
    assert mapping.granting("amazon_ads", "amzn_user_data") == ("marketing",)


def test_with_banner_follows_the_propertys_platform_signals_for_the_platforms_it_names():
    banner = {
        "purposes": [
            {"key": "marketing", "consent_mode": ["ad_user_data"], "platform_signals": {}},
            {
                "key": "advertising",
                "consent_mode": ["ad_storage", "ad_personalization"],
                "platform_signals": {
                    "meta_pixel": ["consent"],
                    "tiktok_pixel": ["consent"],  # no server helper here: left out
                    "amazon_ads": ["amzn_ad_storage", "amzn_user_data", "amzn_new_signal"],
                },
            },
        ]
    }
    mapping = DEFAULT_PLATFORM_MAPPING.with_banner(banner)
    # named by the banner: the property's mapping, Meta no longer needs marketing
    assert mapping.granting("meta_pixel", "consent") == ("advertising",)
    assert mapping.granting("amazon_ads", "amzn_user_data") == ("advertising",)
    # not named (its adapter is not enabled): the client's default stays
    assert mapping.granting("microsoft_uet", "ad_storage") == ("advertising",)
    assert mapping.granting("google", "ad_user_data") == ("marketing",)
    assert meta_conversions_api({"advertising"}, mapping).send is True


def test_a_banner_without_platform_signals_keeps_the_client_defaults():
    banner = {
        "purposes": [
            {"key": key, "consent_mode": list(types)}
            for key, types in DEMO_SHOP_CONSENT_MODE.items()
        ]
    }
    assert DEFAULT_PLATFORM_MAPPING.with_banner(banner) == DEFAULT_PLATFORM_MAPPING


# --- the signals ---------------------------------------------------------------------------


def test_every_platform_and_every_signal_is_present_and_denied_when_nothing_is_allowed():
    signals = platform_signals({})
    assert {p: tuple(s) for p, s in signals.items()} == dict(PLATFORM_SIGNALS)
    assert {v for s in signals.values() for v in s.values()} == {"denied"}


def test_googles_signals_are_exactly_the_consent_mode_signals():
    decisions = {"analytics": True, "advertising": True}
    assert platform_signals(decisions)["google"] == consent_mode(decisions)


def test_a_consent_mode_type_is_granted_when_any_allowed_purpose_lists_it():
    mapping = PlatformMapping({"ads_eu": {"google": ("ad_storage",)}, "ads_us": {"google": ()}})
    mapping = mapping.with_purpose("ads_us", google=["ad_storage"])
    signals = platform_signals({"ads_eu": False, "ads_us": True}, mapping)
    assert signals["google"]["ad_storage"] == "granted"


def test_another_platforms_signal_needs_every_purpose_that_lists_it_as_the_widget_does():
    mapping = PlatformMapping(
        {"ads_eu": {"meta_pixel": ("consent",)}, "ads_us": {"meta_pixel": ("consent",)}}
    )
    assert platform_signals({"ads_eu": False, "ads_us": True}, mapping)["meta_pixel"] == {
        "consent": "denied"
    }
    assert platform_signals({"ads_us": True}, mapping)["meta_pixel"] == {"consent": "denied"}
    assert platform_signals({"ads_eu", "ads_us"}, mapping)["meta_pixel"] == {"consent": "granted"}


def test_a_signal_no_purpose_maps_is_denied_even_when_everything_is_allowed():
    mapping = DEFAULT_PLATFORM_MAPPING.with_purpose("advertising", microsoft_uet=())
    assert platform_signals(EVERYTHING, mapping)["microsoft_uet"] == {"ad_storage": "denied"}


def test_a_purpose_the_mapping_does_not_know_grants_nothing():
    signals = platform_signals({"telepathy": True, "marketing_v2": True})
    assert {v for s in signals.values() for v in s.values()} == {"denied"}


def test_a_failed_or_contradictory_answer_grants_nothing():
    decisions = {
        "advertising": Decision.failed("visitor:x", "advertising", "timed out"),
        "marketing": {"allowed": True, "reason": "opted_out"},
    }
    signals = platform_signals(decisions)
    assert {v for s in signals.values() for v in s.values()} == {"denied"}


def test_a_live_gpc_signal_denies_every_ad_signal_but_not_analytics():
    signals = platform_signals(EVERYTHING, gpc=True)
    assert signals["google"]["analytics_storage"] == "granted"
    assert signals["google"]["security_storage"] == "granted"
    for platform, names in signals.items():
        for name, value in names.items():
            if platform != "google" or name.startswith("ad_"):
                assert value == "denied", (platform, name)


# --- every platform, the same rules ------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_nothing_is_sent_when_nothing_is_allowed(build):
    result = build({})
    assert (result.send, result.fields, result.user_data) == (False, {}, False)
    assert "denied: not sent" in result.why


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_everything_is_sent_with_user_data_when_everything_is_allowed(build):
    result = build(EVERYTHING)
    assert (result.send, result.user_data) == (True, True)
    json.dumps(result.fields)  # goes straight into the platform's JSON body


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_only_unknown_purposes_allowed_sends_nothing(build):
    assert build({"telepathy": True}).send is False


@pytest.mark.parametrize("build", AD_BUILDERS.values(), ids=AD_BUILDERS)
def test_a_live_gpc_signal_stops_every_ad_platform_even_after_a_grant(build):
    result = build(EVERYTHING, gpc=True)
    assert (result.send, result.fields, result.user_data) == (False, {}, False)


@pytest.mark.parametrize("build", AD_BUILDERS.values(), ids=AD_BUILDERS)
def test_a_gpc_decision_from_the_service_stops_every_ad_platform(build):
    decisions = us("US-CA", marketing=Reason.GPC, advertising=Reason.GPC)
    assert build(decisions).send is False


# --- GA4 Measurement Protocol --------------------------------------------------------------


def test_ga4_sends_analytics_with_the_ad_signals_denied_when_only_analytics_is_allowed():
    result = ga4_measurement_protocol({"analytics": True, "marketing": False})
    assert result.send is True
    assert result.fields == {"consent": {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}}
    assert result.user_data is False


def test_ga4_passes_on_partial_ad_consent():
    result = ga4_measurement_protocol({"analytics", "marketing"})
    assert result.fields == {"consent": {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}}
    assert result.user_data is True


def test_ga4_is_not_sent_without_analytics_whatever_the_ad_consent():
    assert ga4_measurement_protocol({"marketing", "advertising"}).send is False


def test_ga4_under_gpc_still_sends_analytics_but_denies_both_ad_signals():
    result = ga4_measurement_protocol(EVERYTHING, gpc=True)
    assert result.fields == {"consent": {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}}
    assert result.user_data is False


# --- Google Ads API --------------------------------------------------------------------------


def test_google_ads_conversions_are_sent_with_ad_user_data_granted_when_marketing_is_allowed():
    result = google_ads({"marketing"})
    assert result.send is True
    assert result.fields == {"consent": {"adUserData": "GRANTED"}}


def test_google_ads_conversions_are_not_sent_without_ad_user_data():
    assert google_ads({"advertising", "analytics"}).send is False


def test_customer_match_adds_ad_personalization_from_its_own_purpose():
    assert google_ads({"marketing"}, customer_match=True).fields == {
        "consent": {"adUserData": "GRANTED", "adPersonalization": "DENIED"}
    }
    assert google_ads({"marketing", "advertising"}, customer_match=True).fields == {
        "consent": {"adUserData": "GRANTED", "adPersonalization": "GRANTED"}
    }


# --- Meta Conversions API --------------------------------------------------------------------


def test_meta_events_are_sent_explicitly_without_limited_data_use_with_both_ad_purposes():
    result = meta_conversions_api({"advertising", "marketing"})
    assert result.send is True
    assert result.fields == {"data_processing_options": []}
    assert result.user_data is True


@pytest.mark.parametrize("allowed", [{"marketing"}, {"advertising"}])
def test_meta_receives_nothing_with_only_one_of_the_purposes_its_pixel_needs(allowed):
    result = meta_conversions_api(allowed)
    assert (result.send, result.user_data) == (False, False)


def test_meta_limited_data_use_is_off_unless_the_shop_asks_for_it():
    decisions = us("US-CA", advertising=Reason.OPTED_OUT)
    assert meta_conversions_api(decisions).send is False


def test_a_californian_who_opted_out_is_sent_with_ldu_for_california():
    decisions = us("US-CA", advertising=Reason.OPTED_OUT, marketing=Reason.OPTED_OUT)
    result = meta_conversions_api(decisions, limited_data_use=True)
    assert result.send is True
    assert result.fields == {
        "data_processing_options": ["LDU"],
        "data_processing_options_country": 1,
        "data_processing_options_state": 1000,
    }
    assert result.user_data is False
    assert "Limited Data Use" in result.why


def test_another_us_states_opt_out_lets_meta_geolocate_the_ldu_event():
    decisions = us("US-CO", advertising=Reason.GPC)
    result = meta_conversions_api(decisions, limited_data_use=True)
    assert result.fields == {
        "data_processing_options": ["LDU"],
        "data_processing_options_country": 0,
        "data_processing_options_state": 0,
    }


def test_the_live_gpc_signal_in_the_us_sends_with_ldu_when_the_shop_asks_for_it():
    result = meta_conversions_api(us("US-CA"), gpc=True, limited_data_use=True)
    assert result.fields["data_processing_options"] == ["LDU"]


def test_limited_data_use_never_replaces_a_missing_opt_in():
    refused = {"advertising": decision("advertising", False, Reason.NO_RECORD, "EU")}
    assert meta_conversions_api(refused, limited_data_use=True).send is False
    a_denial_in_the_us = us("US-CA", advertising=Reason.MATERIAL_CHANGE)
    assert meta_conversions_api(a_denial_in_the_us, limited_data_use=True).send is False


def test_ldu_needs_a_known_us_jurisdiction_and_known_reasons():
    opted_out = {
        "marketing": {"allowed": True, "reason": "opt_out_default"},
        "advertising": {"allowed": False, "reason": "opted_out"},
    }
    assert meta_conversions_api(opted_out, limited_data_use=True).send is False  # where?
    assert meta_conversions_api(opted_out, jurisdiction="US-CA", limited_data_use=True).fields[
        "data_processing_options"
    ] == ["LDU"]
    marketing_unknown = {"advertising": {"allowed": False, "reason": "opted_out"}}
    assert (
        meta_conversions_api(marketing_unknown, jurisdiction="US-CA", limited_data_use=True).send
        is False
    )
    booleans = {"marketing": True, "advertising": False}
    assert meta_conversions_api(booleans, jurisdiction="US-CA", limited_data_use=True).send is False
    assert meta_conversions_api(opted_out, jurisdiction="GB", limited_data_use=True).send is False


def test_disagreeing_jurisdictions_are_no_jurisdiction():
    decisions = us("US-CA", advertising=Reason.OPTED_OUT)
    decisions["marketing"] = decision("marketing", True, Reason.GRANTED, "EU")
    assert meta_conversions_api(decisions, limited_data_use=True).send is False


# --- Amazon Events API -----------------------------------------------------------------------


def test_amazon_gets_both_consent_signals_when_both_purposes_are_allowed():
    result = amazon_events_api({"marketing", "advertising"})
    assert result.fields == {
        "consent": {"amazonConsent": {"amznAdStorage": "GRANTED", "amznUserData": "GRANTED"}}
    }


def test_amazon_gets_a_partial_signal_when_only_user_data_is_allowed():
    result = amazon_events_api({"marketing"})
    assert result.send is True
    assert result.fields["consent"]["amazonConsent"] == {
        "amznAdStorage": "DENIED",
        "amznUserData": "GRANTED",
    }


def test_amazon_is_not_sent_personal_data_without_amzn_user_data():
    assert amazon_events_api({"advertising"}).send is False


# --- Microsoft Conversions API ---------------------------------------------------------------


def test_microsoft_events_carry_ad_storage_consent_granted():
    result = microsoft_conversions_api({"advertising"})
    assert (result.send, result.fields) == (True, {"adStorageConsent": "G"})


def test_microsoft_events_are_not_sent_when_ad_storage_is_denied():
    result = microsoft_conversions_api({"marketing", "analytics"})
    assert (result.send, result.fields) == (False, {})
    assert result.signals == {"ad_storage": "denied"}


# --- a shop's own purposes ---------------------------------------------------------------------


def test_a_shop_with_one_ads_purpose_maps_it_to_every_platform():
    mapping = PlatformMapping(
        {
            "stats": {"google": ("analytics_storage",)},
            "ads": {
                "google": ("ad_storage", "ad_user_data", "ad_personalization"),
                "meta_pixel": ("consent",),
                "amazon_ads": ("amzn_ad_storage", "amzn_user_data"),
                "microsoft_uet": ("ad_storage",),
            },
        }
    )
    for build in AD_BUILDERS.values():
        assert build({"ads": True}, mapping).send is True
        assert build({"ads": False, "stats": True}, mapping).send is False
    # the default purposes mean nothing to this mapping
    assert meta_conversions_api(EVERYTHING, mapping).send is False
