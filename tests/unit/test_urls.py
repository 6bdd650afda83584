"""Public URLs handed out in receipts, banners, emails and pages: one spelling, parts quoted."""

from __future__ import annotations

from consent_service.infra.urls import origin_of
from consent_service.infra.urls import policy_diff_url
from consent_service.infra.urls import policy_url


def test_a_policy_url_names_the_property_document_and_version():
    assert (
        policy_url("https://consent.example", "demo-shop", "privacy", 3)
        == "https://consent.example/v1/policies/demo-shop/privacy/3"
    )


def test_a_trailing_slash_on_the_base_url_is_not_doubled():
    assert (
        policy_url("https://consent.example/", "demo-shop", "privacy", 3)
        == "https://consent.example/v1/policies/demo-shop/privacy/3"
    )


def test_parts_that_are_not_slugs_are_quoted():
    assert (
        policy_url("https://consent.example", "a/b", "c d", 1)
        == "https://consent.example/v1/policies/a%2Fb/c%20d/1"
    )


def test_a_diff_url_names_both_versions():
    assert (
        policy_diff_url("https://consent.example/consent", "demo-shop", "privacy", 2, 3)
        == "https://consent.example/consent/policies/demo-shop/privacy/diff/2..3"
    )


def test_the_origin_of_a_base_url_with_a_path_is_scheme_host_and_port():
    assert origin_of("https://example.com:8443/consent/") == "https://example.com:8443"
    assert origin_of("http://consent.test") == "http://consent.test"
