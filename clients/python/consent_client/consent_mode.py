"""Google Consent Mode v2 signals for server-side ad and analytics calls.

Browser tags get their Consent Mode state from the widget; a server-side call (GA4
Measurement Protocol, enhanced conversions, Meta Conversions API) has no browser, so the shop
derives the same signals from the service's decisions and passes them along. The rule is the
widget's: a consent type is granted when any allowed purpose lists it in its ``consent_mode``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import Literal

from consent_client.answers import Answers
from consent_client.answers import allowed_purposes

Signal = Literal["granted", "denied"]

CONSENT_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)

# The demo shop's purposes (policies/demo/demo-shop/property.toml). A shop with other purposes
# passes its own mapping, or reads it from its banner with ``mapping_from_banner``.
DEMO_SHOP_CONSENT_MODE: Mapping[str, tuple[str, ...]] = {
    "necessary": ("security_storage",),
    "preferences": ("functionality_storage", "personalization_storage"),
    "analytics": ("analytics_storage",),
    "marketing": ("ad_user_data",),
    "advertising": ("ad_storage", "ad_personalization"),
}


def consent_mode(
    decisions: Answers,
    mapping: Mapping[str, Iterable[str]] = DEMO_SHOP_CONSENT_MODE,
) -> dict[str, Signal]:
    """Every Consent Mode type, ``'granted'`` or ``'denied'``.

    ``decisions`` maps purpose keys to decisions (the client's, a consent token's, their
    JSON, or booleans), or is the set of allowed purpose keys. A type no allowed purpose
    grants is denied, including when a decision failed: an unanswered question never grants
    anything.
    """
    allowed = allowed_purposes(decisions)
    signals: dict[str, Signal] = dict.fromkeys(CONSENT_TYPES, "denied")
    for purpose, types in mapping.items():
        for consent_type in types:
            if purpose in allowed:
                signals[consent_type] = "granted"
            else:
                signals.setdefault(consent_type, "denied")
    return signals


def ga4_consent(signals: Mapping[str, str]) -> dict[str, str]:
    """The GA4 Measurement Protocol ``consent`` object: ``{"ad_user_data": "GRANTED", ...}``."""
    return {
        key: "GRANTED" if signals.get(key) == "granted" else "DENIED"
        for key in ("ad_user_data", "ad_personalization")
    }


def mapping_from_banner(banner: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The purpose -> consent types mapping of a property, from its ``GET /v1/banner`` JSON."""
    return {
        str(purpose["key"]): tuple(str(t) for t in purpose.get("consent_mode", ()))
        for purpose in banner.get("purposes", ())
    }
