"""The platforms catalogue: default mappings from Consent Mode types, the admin form's
choices, and the errors that name what each platform takes."""

from __future__ import annotations

from consent_service.properties.catalogue import CONSENT_MODE_TYPES
from consent_service.properties.platforms import PLATFORMS
from consent_service.properties.platforms import default_platform_signals
from consent_service.properties.platforms import normalised
from consent_service.properties.platforms import ordered_platforms
from consent_service.properties.platforms import parse_signal_choices
from consent_service.properties.platforms import platform_errors
from consent_service.properties.platforms import signal_errors


def test_each_consent_mode_type_has_a_default_of_known_signals_only():
    for kind in CONSENT_MODE_TYPES:
        signals = default_platform_signals([kind])
        assert signal_errors("/platform_signals", signals) == [], kind


def test_defaults_merge_types_once_each_in_catalogue_order():
    signals = default_platform_signals(["ad_user_data", "ad_storage", "analytics_storage"])
    assert list(signals) == [key for key in PLATFORMS if key in signals]
    assert signals["microsoft_clarity"] == ["ad_Storage", "analytics_Storage"]
    assert signals["meta_pixel"] == ["consent"]
    assert signals["amazon_ads"] == ["amzn_ad_storage", "amzn_user_data"]
    assert default_platform_signals([]) == {}
    assert default_platform_signals(["not_a_type"]) == {}


def test_a_sale_or_sharing_opt_out_category_maps_to_shopifys_sale_of_data():
    assert default_platform_signals([], ["sharing"]) == {"shopify": ["sale_of_data"]}
    assert default_platform_signals(["ad_storage"], ["sale", "targeted_advertising"])[
        "shopify"
    ] == ["marketing", "sale_of_data"]
    assert default_platform_signals([], ["targeted_advertising"]) == {}


def test_normalised_orders_drops_the_unknown_and_the_empty():
    assert normalised(
        {"shopify": ["sale_of_data", "analytics", "nope"], "wp_consent": [], "x": ["y"]}
    ) == {"shopify": ["analytics", "sale_of_data"]}


def test_the_forms_choices_become_a_mapping_keeping_what_is_unknown_for_the_errors():
    assert parse_signal_choices(
        ["shopify:analytics", "shopify:marketing", "meta_pixel:consent", "odd", "a:b:c"]
    ) == {
        "shopify": ["analytics", "marketing"],
        "meta_pixel": ["consent"],
        "odd": [""],
        "a": ["b:c"],
    }


def test_errors_name_the_platform_and_what_it_takes():
    errors = signal_errors("/platform_signals", {"meta_pixel": ["grant"], "snapchat": ["consent"]})
    assert [e.pointer for e in errors] == ["/platform_signals"] * 2
    assert errors[0].detail == "'grant' is not a signal of Meta pixel consent (consent)"
    assert errors[1].detail.startswith("'snapchat' is not a platform (amazon_ads, ")
    assert [e.detail for e in platform_errors("/platforms", ["shopify", "x"])] == [
        "'x' is not a platform (amazon_ads, meta_pixel, microsoft_clarity, microsoft_uet, "
        "shopify, tiktok_pixel, wp_consent)"
    ]


def test_enabled_platforms_are_kept_once_in_catalogue_order():
    assert ordered_platforms(["wp_consent", "shopify", "x", "shopify"]) == [
        "shopify",
        "wp_consent",
    ]
