"""Consent Mode v2 signals for server-side calls follow the widget's rule: a type is granted
when any allowed purpose lists it."""

from __future__ import annotations

import tomllib

from consent_client import CONSENT_TYPES
from consent_client import DEMO_SHOP_CONSENT_MODE
from consent_client import Decision
from consent_client import Reason
from consent_client import consent_mode
from consent_client import ga4_consent
from consent_client import mapping_from_banner
from policies import DEMO_DIR


def allowed(purpose: str) -> Decision:
    return Decision(True, Reason.GRANTED, subject="customer:1", purpose=purpose)


def denied(purpose: str) -> Decision:
    return Decision(False, Reason.DENIED, subject="customer:1", purpose=purpose)


def test_the_demo_mapping_is_the_demo_shops_property_file():
    spec = tomllib.loads((DEMO_DIR / "demo-shop" / "property.toml").read_text())
    from_file = {p["key"]: tuple(p["consent_mode"]) for p in spec["purposes"]}
    assert from_file == DEMO_SHOP_CONSENT_MODE


def test_allowed_advertising_grants_ad_storage_and_ad_personalization_only():
    signals = consent_mode(
        {"advertising": allowed("advertising"), "marketing": denied("marketing")}
    )
    granted = {key for key, value in signals.items() if value == "granted"}
    assert granted == {"ad_storage", "ad_personalization"}


def test_allowed_marketing_grants_ad_user_data():
    assert consent_mode({"marketing": allowed("marketing")})["ad_user_data"] == "granted"


def test_every_consent_type_is_present_and_denied_when_nothing_is_allowed():
    assert consent_mode({}) == dict.fromkeys(CONSENT_TYPES, "denied")


def test_a_failed_decision_grants_nothing():
    failed = Decision.failed("customer:1", "advertising", "timed out")
    assert set(consent_mode({"advertising": failed}).values()) == {"denied"}


def test_a_type_is_granted_when_any_allowed_purpose_lists_it():
    mapping = {"ads_eu": ("ad_storage",), "ads_us": ("ad_storage",)}
    assert consent_mode({"ads_eu": False, "ads_us": True}, mapping)["ad_storage"] == "granted"


def test_a_set_of_allowed_purpose_keys_works_as_well_as_decisions():
    assert consent_mode({"analytics"})["analytics_storage"] == "granted"


def test_ga4_measurement_protocol_consent_uses_upper_case_values():
    signals = consent_mode({"marketing": True})
    assert ga4_consent(signals) == {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}


def test_the_mapping_can_be_read_from_a_banner_document():
    banner = {
        "purposes": [
            {"key": "necessary", "consent_mode": ["security_storage"]},
            {"key": "advertising", "consent_mode": ["ad_storage", "ad_personalization"]},
            {"key": "newsletter"},
        ]
    }
    assert mapping_from_banner(banner) == {
        "necessary": ("security_storage",),
        "advertising": ("ad_storage", "ad_personalization"),
        "newsletter": (),
    }
