"""What "declared" means when the Scans page adds a finding to the vendor list: a name pattern
(``*``) on first-party or a third party's domain, a host under a vendor's cookie domain; and
the Open Cookie Database's lifetimes as ISO 8601 durations the banner formats."""

from __future__ import annotations

import pytest

from consent_service.models import Vendor
from consent_service.properties.declarations import Seen
from consent_service.properties.declarations import declaring_vendor
from consent_service.properties.declarations import duration_from_words
from consent_service.properties.declarations import vendor_key


def _vendor(key: str, *cookies: tuple[str, str]) -> Vendor:
    return Vendor(
        key=key,
        name=key.title(),
        cookies=[
            {"name": n, "domain": d, "duration": "P1Y", "description": ""} for n, d in cookies
        ],
    )


VENDORS = [
    _vendor("analytics", ("_ga", "first-party"), ("_ga_*", "first-party")),
    _vendor("meta", ("fr", ".facebook.com"), ("_fbp", "first-party")),
]


@pytest.mark.parametrize(
    ("seen", "holder"),
    [
        (Seen(name="_ga"), "analytics"),
        (Seen(name="_ga_ABC123", domain="shop.test"), "analytics"),
        (Seen(name="_gax"), None),  # "_ga" is one cookie, not a prefix
        (Seen(name="_GA"), None),  # names are case-sensitive, as in the browser
        (Seen(name="_ga", domain=".other.test", third_party=True), None),  # first-party only
        (Seen(name="fr", domain=".facebook.com", third_party=True), "meta"),
        (Seen(name="fr", domain="www.facebook.com", third_party=True), "meta"),
        (Seen(name="fr", domain="notfacebook.com", third_party=True), None),
        (Seen(host="connect.facebook.com"), "meta"),
        (Seen(host="facebook.com"), "meta"),
        (Seen(host="evilfacebook.com"), None),
        (Seen(host="shop.test"), None),  # "first-party" is no host
    ],
)
def test_what_a_vendor_list_declares(seen, holder):
    found = declaring_vendor(VENDORS, seen)
    assert (found.key if found else None) == holder


@pytest.mark.parametrize(
    ("words", "duration"),
    [
        ("2 years", "P2Y"),
        ("1 Year", "P1Y"),
        ("13 months", "P13M"),
        ("1 week", "P1W"),
        ("365 days", "P365D"),
        ("24 hours", "PT24H"),
        ("30 minutes", "PT30M"),
        ("10 seconds", "PT10S"),
        ("session", "session"),
        ("End of session (browser)", "session"),
        ("Unknown", "Unknown"),
        ("  3   months ", "P3M"),
        ("persistent", "persistent"),
    ],
)
def test_lifetimes_in_words_become_iso_durations(words, duration):
    assert duration_from_words(words) == duration


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Google Analytics", "google-analytics"),
        ("Meta (Facebook) Pixel", "meta-facebook-pixel"),
        ("Ströer", "stroer"),
        ("!!!", "vendor"),
        ("x" * 80, "x" * 64),
    ],
)
def test_a_vendors_key_comes_from_its_name(name, key):
    assert vendor_key(name) == key
