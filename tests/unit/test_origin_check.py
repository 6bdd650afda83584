"""The one origin check: a property's listed origins, the service's own pages, non-browsers."""

from __future__ import annotations

import pytest

from consent_service.errors import OriginNotAllowed
from consent_service.properties.lookup import check_origin

SHOP = "https://shop.example"


def test_a_listed_origin_passes():
    check_origin(SHOP, {SHOP}, "demo-shop", base_url="https://consent.example")


def test_a_request_without_origin_is_not_a_browser_and_passes():
    check_origin(None, set(), "demo-shop", base_url="https://consent.example")


def test_an_unlisted_origin_is_refused_and_named():
    with pytest.raises(OriginNotAllowed, match=r"https://evil\.example"):
        check_origin(
            "https://evil.example", {SHOP}, "demo-shop", base_url="https://consent.example"
        )


def test_the_services_own_pages_pass_when_its_base_url_has_a_path():
    # A browser sends scheme://host[:port] only, never the path the service is mounted under.
    base_url = "https://example.com:8443/consent"
    check_origin("https://example.com:8443", set(), "demo-shop", base_url=base_url)
    with pytest.raises(OriginNotAllowed):
        check_origin(base_url, set(), "demo-shop", base_url=base_url)
