"""The ad platforms and shop platforms the widget tells a visitor's choice, besides Google
Consent Mode: which signals each one takes, how a property's purposes map to them by
default, and which of them a property enables.

Each platform's signal names are those of its documented JavaScript surface (the widget's
``widget/src/ads.js`` cites each page). The mapping from purposes to signals is data on the
purpose (``Purpose.platform_signals``, ``{platform: [signal, ...]}``) that the admin edits,
like ``consent_mode``. One rule differs from Consent Mode's on purpose: a signal is granted
only when *every* purpose that maps to it is granted (Consent Mode types are granted by any),
so a shop that ties Meta's pixel to both "marketing" and "advertising" needs both; a signal
no purpose maps stays denied. Fail closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Mapping

from consent_service.errors import FieldError


@dataclasses.dataclass(frozen=True)
class Platform:
    """One platform: ``kind`` is "ad" (an ad or analytics tag's consent switch) or "shop"
    (a shop platform's consent API that its own plugins, pixels and checkout read)."""

    key: str
    name: str
    kind: str
    signals: tuple[str, ...]
    docs: str


PLATFORMS: dict[str, Platform] = {
    platform.key: platform
    for platform in (
        Platform(
            "microsoft_uet",
            "Microsoft Advertising UET consent mode",
            "ad",
            ("ad_storage",),
            "https://learn.microsoft.com/en-us/advertising/msa-help/hlp_ba_conc_uet_consent",
        ),
        Platform(
            "microsoft_clarity",
            "Microsoft Clarity consent v2",
            "ad",
            ("ad_Storage", "analytics_Storage"),
            "https://learn.microsoft.com/en-us/clarity/setup-and-installation/clarity-consent-api-v2",
        ),
        Platform(
            "meta_pixel",
            "Meta pixel consent",
            "ad",
            ("consent",),
            "https://developers.facebook.com/docs/meta-pixel/implementation/gdpr",
        ),
        Platform(
            "tiktok_pixel",
            "TikTok pixel consent",
            "ad",
            ("consent",),
            "https://ads.tiktok.com/help/article/how-to-use-cookies-with-tiktok-pixel",
        ),
        Platform(
            "amazon_ads",
            "Amazon Consent Signal (Amazon Ad Tag)",
            "ad",
            ("amzn_ad_storage", "amzn_user_data"),
            "https://github.com/amzn/ads-pao-amznjs-gtm-template",
        ),
        Platform(
            "shopify",
            "Shopify Customer Privacy API",
            "shop",
            ("analytics", "marketing", "preferences", "sale_of_data"),
            "https://shopify.dev/docs/api/customer-privacy",
        ),
        Platform(
            "wp_consent",
            "WP Consent API (WordPress, WooCommerce)",
            "shop",
            ("functional", "preferences", "statistics", "statistics-anonymous", "marketing"),
            "https://wordpress.org/plugins/wp-consent-api/",
        ),
    )
}

# What a purpose's Google Consent Mode types say about each platform's signals: the default
# mapping of the demo's purposes, of existing purposes (the migration) and of new ones.
_FROM_CONSENT_MODE: dict[str, dict[str, tuple[str, ...]]] = {
    "ad_storage": {
        "microsoft_uet": ("ad_storage",),
        "microsoft_clarity": ("ad_Storage",),
        "meta_pixel": ("consent",),
        "tiktok_pixel": ("consent",),
        "amazon_ads": ("amzn_ad_storage",),
        "shopify": ("marketing",),
        "wp_consent": ("marketing",),
    },
    # Sending the visitor's data to the platform, which the pixels do on every event.
    "ad_user_data": {
        "meta_pixel": ("consent",),
        "tiktok_pixel": ("consent",),
        "amazon_ads": ("amzn_user_data",),
        "shopify": ("marketing",),
        "wp_consent": ("marketing",),
    },
    "ad_personalization": {"shopify": ("marketing",), "wp_consent": ("marketing",)},
    "analytics_storage": {
        "microsoft_clarity": ("analytics_Storage",),
        "shopify": ("analytics",),
        "wp_consent": ("statistics", "statistics-anonymous"),
    },
    "functionality_storage": {"shopify": ("preferences",), "wp_consent": ("preferences",)},
    "personalization_storage": {"shopify": ("preferences",), "wp_consent": ("preferences",)},
    "security_storage": {"wp_consent": ("functional",)},
}
# Shopify's "sale of data" follows the US opt-out categories: a purpose with one of these maps
# to it by default, and the widget refuses it whenever such a purpose is refused, whatever
# the mapping says.
SALE_OF_DATA_CATEGORIES = ("sale", "sharing")

PlatformSignals = dict[str, list[str]]


def default_platform_signals(
    consent_mode: Iterable[str], opt_out_categories: Iterable[str] = ()
) -> PlatformSignals:
    """The signals a purpose with these Consent Mode types and US opt-out categories maps
    to by default."""
    signals: dict[str, set[str]] = {}
    for kind in consent_mode:
        for platform, names in _FROM_CONSENT_MODE.get(kind, {}).items():
            signals.setdefault(platform, set()).update(names)
    if set(opt_out_categories) & set(SALE_OF_DATA_CATEGORIES):
        signals.setdefault("shopify", set()).add("sale_of_data")
    return normalised(signals)


def normalised(signals: Mapping[str, Iterable[str]]) -> PlatformSignals:
    """Platforms in catalogue order, each with its signals in catalogue order, none empty;
    anything unknown dropped (check with :func:`signal_errors` first)."""
    return {
        key: [name for name in platform.signals if name in set(signals.get(key, ()))]
        for key, platform in PLATFORMS.items()
        if set(signals.get(key, ())) & set(platform.signals)
    }


def parse_signal_choices(values: Iterable[str]) -> dict[str, list[str]]:
    """The admin form's ``platform:signal`` checkboxes as ``{platform: [signal]}``, in the
    order given (unknown ones kept, for :func:`signal_errors` to name)."""
    signals: dict[str, list[str]] = {}
    for value in values:
        platform, _, signal = value.partition(":")
        signals.setdefault(platform, []).append(signal)
    return signals


def signal_errors(pointer: str, signals: Mapping[str, Iterable[str]]) -> list[FieldError]:
    """One error per unknown platform or signal, naming what each platform takes."""
    errors: list[FieldError] = []
    for key, names in signals.items():
        platform = PLATFORMS.get(key)
        if platform is None:
            errors.append(
                FieldError(pointer, f"{key!r} is not a platform ({', '.join(sorted(PLATFORMS))})")
            )
            continue
        for name in names:
            if name not in platform.signals:
                errors.append(
                    FieldError(
                        pointer,
                        f"{name!r} is not a signal of {platform.name} "
                        f"({', '.join(platform.signals)})",
                    )
                )
    return errors


def platform_errors(pointer: str, keys: Iterable[str]) -> list[FieldError]:
    return [
        FieldError(pointer, f"{key!r} is not a platform ({', '.join(sorted(PLATFORMS))})")
        for key in keys
        if key not in PLATFORMS
    ]


def ordered_platforms(keys: Iterable[str]) -> list[str]:
    """Known platform keys, once each, in catalogue order."""
    wanted = set(keys)
    return [key for key in PLATFORMS if key in wanted]
