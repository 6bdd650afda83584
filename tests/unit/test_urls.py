"""Public URLs handed out in receipts, banners, emails and pages: one spelling, parts quoted."""

from __future__ import annotations

import pytest

from consent_service.infra.urls import origin_of
from consent_service.infra.urls import policy_diff_url
from consent_service.infra.urls import policy_url


@pytest.mark.parametrize(
    ("base_url", "property_key", "document_key", "expected"),
    [
        (
            "https://c.example",
            "demo-shop",
            "privacy",
            "https://c.example/v1/policies/demo-shop/privacy/3",
        ),
        # A trailing slash on the base URL is not doubled.
        (
            "https://c.example/",
            "demo-shop",
            "privacy",
            "https://c.example/v1/policies/demo-shop/privacy/3",
        ),
        # Parts that are not slugs are quoted.
        ("https://c.example", "a/b", "c d", "https://c.example/v1/policies/a%2Fb/c%20d/3"),
    ],
)
def test_a_policy_url_names_the_property_document_and_version(
    base_url, property_key, document_key, expected
):
    assert policy_url(base_url, property_key, document_key, 3) == expected


def test_a_diff_url_names_both_versions():
    assert (
        policy_diff_url("https://consent.example/consent", "demo-shop", "privacy", 2, 3)
        == "https://consent.example/consent/policies/demo-shop/privacy/diff/2..3"
    )


def test_the_origin_of_a_base_url_with_a_path_is_scheme_host_and_port():
    assert origin_of("https://example.com:8443/consent/") == "https://example.com:8443"
    assert origin_of("http://consent.test") == "http://consent.test"
