"""Consent fields for the ad platforms' server-side conversion APIs.

A conversion sent from the shop's server has no browser, so none of the widget's switches
reach it (Consent Mode, ``fbq('consent')``, UET consent mode, the Amazon Consent Signal). The
server must not send an event the person's choice does not allow, and must tell the platform,
in the platform's own field, what was allowed. The functions here do both, purely, from a
decision look-up (or a verified consent token's decisions) and the property's mapping from
purposes to each platform's signals.

The mapping is the service's own data: Google's part is each purpose's ``consent_mode``, the
rest its ``platform_signals`` (``{platform: [signal, ...]}``, the same keys and signal names
the widget's platform adapters use), so one admin edit moves the browser tags and these
helpers together, under the widget's rules: a Consent Mode type is granted when *any* allowed
purpose lists it, any other platform's signal only when *every* purpose listing it is allowed.

They fail closed: a purpose that is missing, failed, or answered in a shape that is not an
unambiguous "allowed" counts as refused; a signal no purpose maps is denied; and an event
whose platform's gating signal is denied comes back ``send=False`` with no fields at all, so
that ignoring the flag still sends nothing consent-shaped. Each builder cites the platform
documentation it follows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from consent_client.answers import Answers
from consent_client.answers import PurposeAnswer
from consent_client.answers import read_answers
from consent_client.consent_mode import CONSENT_TYPES
from consent_client.consent_mode import DEMO_SHOP_CONSENT_MODE
from consent_client.consent_mode import Signal
from consent_client.consent_mode import ga4_consent
from consent_client.consent_mode import mapping_from_banner
from consent_client.decision import Reason

# Every platform with a server API here, and the signals a purpose may grant on it (the
# service's platform keys and signal names, from each platform's browser-side switch):
#   google:        the Consent Mode v2 types (the purpose's ``consent_mode``);
#   meta_pixel:    ``consent``, Meta's one switch, fbq('consent', 'grant'|'revoke');
#   amazon_ads:    the Amazon Consent Signal, ``amzn_ad_storage`` (cookies) and
#                  ``amzn_user_data`` (personal data for advertising);
#   microsoft_uet: UET consent mode's one signal, ``ad_storage``.
PLATFORM_SIGNALS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "google": CONSENT_TYPES,
        "meta_pixel": ("consent",),
        "amazon_ads": ("amzn_ad_storage", "amzn_user_data"),
        "microsoft_uet": ("ad_storage",),
    }
)

# What a live Global Privacy Control signal switches off: every signal that discloses
# personal data to an ad platform or lets it target ads (sale, sharing, targeted advertising).
# Google's storage types for analytics, functionality and security are not among them.
_SALE_OR_SHARING: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "google": frozenset({"ad_storage", "ad_user_data", "ad_personalization"}),
        "meta_pixel": frozenset(PLATFORM_SIGNALS["meta_pixel"]),
        "amazon_ads": frozenset(PLATFORM_SIGNALS["amazon_ads"]),
        "microsoft_uet": frozenset(PLATFORM_SIGNALS["microsoft_uet"]),
    }
)

# Denials that are a US-style opt-out (not a missing opt-in): the only ones Meta's Limited
# Data Use is meant for.
_OPT_OUT_REASONS = frozenset({Reason.OPTED_OUT, Reason.GPC})


@dataclasses.dataclass(frozen=True)
class PlatformMapping:
    """Which platform signals each purpose grants: ``{purpose: {platform: (signal, ...)}}``.

    A Google (Consent Mode) type is granted when any allowed purpose lists it; another
    platform's signal when every purpose listing it is allowed. Unknown platforms and signal
    names are refused here, with their names, because a typo would otherwise deny that
    signal for everyone without a word.
    """

    purposes: Mapping[str, Mapping[str, tuple[str, ...]]]

    def __post_init__(self) -> None:
        checked = {
            str(purpose): MappingProxyType(_checked_platforms(str(purpose), platforms))
            for purpose, platforms in self.purposes.items()
        }
        object.__setattr__(self, "purposes", MappingProxyType(checked))

    def granting(self, platform: str, signal: str) -> tuple[str, ...]:
        """The purposes whose consent grants ``signal`` on ``platform``."""
        return tuple(
            purpose
            for purpose, platforms in self.purposes.items()
            if signal in platforms.get(platform, ())
        )

    def with_purpose(self, purpose: str, **platforms: Iterable[str]) -> PlatformMapping:
        """A copy in which ``purpose`` grants exactly these signals on the named platforms
        (``mapping.with_purpose("advertising", microsoft_uet=())``); other platforms are kept."""
        current = dict(self.purposes.get(purpose, {}))
        current.update({name: tuple(signals) for name, signals in platforms.items()})
        return PlatformMapping({**self.purposes, purpose: current})

    def with_consent_mode(self, consent_mode: Mapping[str, Iterable[str]]) -> PlatformMapping:
        """A copy whose Google signals are exactly the property's Consent Mode mapping, e.g.
        ``mapping_from_banner(banner)``: the one part of this mapping the service holds today."""
        keys = list(self.purposes) + [p for p in consent_mode if p not in self.purposes]
        purposes: dict[str, dict[str, tuple[str, ...]]] = {}
        for key in keys:
            platforms = {n: s for n, s in self.purposes.get(key, {}).items() if n != "google"}
            google = tuple(consent_mode.get(key, ()))
            if google:
                platforms["google"] = google
            purposes[key] = platforms
        return PlatformMapping(purposes)

    def with_banner(self, banner: Mapping[str, Any]) -> PlatformMapping:
        """A copy following the property's own mapping, from its ``GET /v1/banner`` JSON:
        Google's part from the purposes' ``consent_mode``, and each platform the purposes'
        ``platform_signals`` name from those. The banner names only the platforms whose
        widget adapter the property enables; the others keep this mapping's signals.
        Platforms and signals this client has no helper for are left out."""
        purposes = banner.get("purposes", ())
        mapping = self.with_consent_mode(mapping_from_banner(banner))
        named = {
            platform
            for purpose in purposes
            for platform in (purpose.get("platform_signals") or {})
            if platform in PLATFORM_SIGNALS and platform != "google"
        }
        merged: dict[str, dict[str, tuple[str, ...]]] = {
            key: {n: s for n, s in platforms.items() if n not in named}
            for key, platforms in mapping.purposes.items()
        }
        for purpose in purposes:
            signals = purpose.get("platform_signals") or {}
            own = merged.setdefault(str(purpose["key"]), {})
            for platform in named & set(signals):
                known = PLATFORM_SIGNALS[platform]
                own[platform] = tuple(s for s in signals[platform] if s in known)
        return PlatformMapping(merged)


def _checked_platforms(purpose: str, platforms: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(platforms, Mapping):
        raise TypeError(f"purpose {purpose!r}: expected {{platform: signals}}, not {platforms!r}")
    checked: dict[str, tuple[str, ...]] = {}
    for platform, signals in platforms.items():
        known = PLATFORM_SIGNALS.get(platform)
        if known is None:
            raise ValueError(
                f"purpose {purpose!r}: unknown platform {platform!r} "
                f"(known: {', '.join(PLATFORM_SIGNALS)})"
            )
        if isinstance(signals, str | bytes):
            raise TypeError(f"purpose {purpose!r}: {platform} signals must be a list, not a str")
        names = tuple(signals)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(
                f"purpose {purpose!r}: unknown {platform} signal(s) {', '.join(map(repr, unknown))}"
                f" (known: {', '.join(known)})"
            )
        checked[platform] = names
    return checked


# The default purposes (the demo shop's, policies/demo/demo-shop/property.toml), as the
# service maps them by default from their Consent Mode types: ``ad_user_data`` (marketing:
# hashed customer data to ad platforms) gives Meta's consent and ``amzn_user_data``;
# ``ad_storage`` (advertising: their cookies and ads) gives Meta's consent,
# ``amzn_ad_storage`` and UET's ``ad_storage``. Meta thus needs both purposes.
DEFAULT_PLATFORM_MAPPING = PlatformMapping(
    {
        "necessary": {},
        "preferences": {},
        "analytics": {},
        "marketing": {"meta_pixel": ("consent",), "amazon_ads": ("amzn_user_data",)},
        "advertising": {
            "meta_pixel": ("consent",),
            "amazon_ads": ("amzn_ad_storage",),
            "microsoft_uet": ("ad_storage",),
        },
    }
).with_consent_mode(DEMO_SHOP_CONSENT_MODE)


def platform_signals(
    decisions: Answers,
    mapping: PlatformMapping = DEFAULT_PLATFORM_MAPPING,
    *,
    gpc: bool = False,
) -> dict[str, dict[str, Signal]]:
    """Every platform's every signal, ``'granted'`` or ``'denied'``.

    ``decisions`` maps purpose keys to the client's decisions, a consent token's decisions,
    decision JSON or booleans, or is the set of allowed purpose keys. ``gpc`` is the live
    ``Sec-GPC: 1`` of the request being served: it denies every sale / sharing / targeted
    advertising signal whatever the decisions say (a token may predate the signal).
    """
    answers = read_answers(decisions)
    return {
        platform: {
            signal: _signal(platform, signal, answers, mapping, gpc=gpc) for signal in signals
        }
        for platform, signals in PLATFORM_SIGNALS.items()
    }


@dataclasses.dataclass(frozen=True)
class PlatformConsent:
    """What may go to one platform's server API with one person's event.

    ``send``: send the event at all. ``fields``: merge into the event (or request) as the
    builder's docstring says; empty when ``send`` is false. ``user_data``: hashed customer
    information may be attached. ``why``: one line for the log, naming no person.
    """

    platform: str
    send: bool
    fields: dict[str, Any]
    user_data: bool
    signals: dict[str, Signal]
    why: str


def ga4_measurement_protocol(
    decisions: Answers,
    mapping: PlatformMapping = DEFAULT_PLATFORM_MAPPING,
    *,
    gpc: bool = False,
) -> PlatformConsent:
    """Google Analytics 4 Measurement Protocol: the request body's ``consent`` object.

    Source: https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference#payload_consent
    (``consent.ad_user_data`` and ``consent.ad_personalization``, ``"GRANTED"`` or
    ``"DENIED"``). A Measurement Protocol event is analytics data about the person, so it is
    sent only when ``analytics_storage`` is granted; the two ad signals then travel as they
    are, denied ones included. ``user_data`` (user-provided data, ``user_id`` for ads)
    follows ``ad_user_data``. Merge ``fields`` into the top level of the request body.
    """
    signals = platform_signals(decisions, mapping, gpc=gpc)["google"]
    return _result(
        "google",
        signals,
        gate="analytics_storage",
        fields={"consent": ga4_consent(signals)},
        user_data=signals["ad_user_data"] == "granted",
    )


def google_ads(
    decisions: Answers,
    mapping: PlatformMapping = DEFAULT_PLATFORM_MAPPING,
    *,
    gpc: bool = False,
    customer_match: bool = False,
) -> PlatformConsent:
    """Google Ads API ``Consent`` of a click (or call) conversion upload, or of Customer Match.

    Sources: https://developers.google.com/google-ads/api/reference/rpc/latest/Consent
    (``ad_user_data``; ``ad_personalization`` "can only be set for OfflineUserDataJobService
    and UserDataService"), https://developers.google.com/google-ads/api/reference/rpc/latest/ClickConversion
    (``consent``: "The consent setting for the event") and
    https://developers.google.com/google-ads/api/reference/rpc/latest/ConsentStatusEnum.ConsentStatus
    (``GRANTED``, ``DENIED``). An upload is user data sent to Google for advertising, which
    is what ``ad_user_data`` means, so it is sent only when that is granted; with
    ``customer_match=True`` ``adPersonalization`` is added. ``fields`` uses the REST JSON
    names (``{"consent": {"adUserData": "GRANTED"}}``); merge it into the ClickConversion.
    """
    signals = platform_signals(decisions, mapping, gpc=gpc)["google"]
    consent = {"adUserData": _upper(signals["ad_user_data"])}
    if customer_match:
        consent["adPersonalization"] = _upper(signals["ad_personalization"])
    return _result(
        "google",
        signals,
        gate="ad_user_data",
        fields={"consent": consent},
        user_data=signals["ad_user_data"] == "granted",
    )


def meta_conversions_api(
    decisions: Answers,
    mapping: PlatformMapping = DEFAULT_PLATFORM_MAPPING,
    *,
    jurisdiction: str | None = None,
    gpc: bool = False,
    limited_data_use: bool = False,
) -> PlatformConsent:
    """Meta Conversions API: whether to send a server event, and its data processing options.

    Sources: https://developers.facebook.com/docs/meta-pixel/implementation/gdpr (Meta's
    consent is a browser switch, ``fbq('consent', 'revoke'|'grant')``; the Conversions API
    has no consent field, so without ``consent`` the event is simply not sent) and
    https://developers.facebook.com/docs/marketing-apis/data-processing-options with
    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event/
    (``data_processing_options``: ``[]`` explicitly not Limited Data Use, ``["LDU"]`` with
    ``data_processing_options_country`` 1 = US or 0 = "geolocate", and
    ``data_processing_options_state`` 1000 = California or 0 = "geolocate").

    With ``limited_data_use=True``, a person in a US jurisdiction whose ``consent`` is
    denied by an opt-out (every purpose that maps to it allowed or refused with reason
    ``opted_out`` or ``gpc``, or the live ``gpc``) is sent with LDU, under which Meta
    processes the data as a service provider, and without hashed customer data; without
    known reasons or outside the US nothing is sent. ``jurisdiction`` defaults to the one the
    decisions agree on. Merge ``fields`` into each event of ``data``.
    """
    signals = platform_signals(decisions, mapping, gpc=gpc)["meta_pixel"]
    if signals["consent"] == "granted":
        fields: dict[str, Any] = {"data_processing_options": []}
        return _result("meta_pixel", signals, "consent", fields, user_data=True)
    where = jurisdiction if jurisdiction is not None else _jurisdiction(decisions)
    opted_out = _opted_out(read_answers(decisions), mapping, "meta_pixel", gpc=gpc)
    if limited_data_use and _is_us(where) and opted_out:
        return PlatformConsent(
            platform="meta_pixel",
            send=True,
            fields={
                "data_processing_options": ["LDU"],
                "data_processing_options_country": 1 if where == "US-CA" else 0,
                "data_processing_options_state": 1000 if where == "US-CA" else 0,
            },
            user_data=False,
            signals=signals,
            why=f"meta_pixel 'consent' opted out in {where}: sent with Limited Data Use",
        )
    return _result("meta_pixel", signals, "consent", {}, user_data=False)


def amazon_events_api(
    decisions: Answers,
    mapping: PlatformMapping = DEFAULT_PLATFORM_MAPPING,
    *,
    gpc: bool = False,
) -> PlatformConsent:
    """Amazon Ads Conversions API (Events API): the event's ``consent.amazonConsent``.

    Sources: the Amazon Consent Signal as Amazon documents it,
    https://advertising.amazon.com/API/docs/en-us/guides/ads-data-manager/adm-consent-management
    (``amzn_user_data``: consent to use personal data for advertising; ``amzn_ad_storage``:
    consent to read/write Amazon cookies; values ``GRANTED``/``DENIED``); Amazon's release
    notes of November 2024, https://advertising.amazon.com/API/docs/en-us/release-notes/index
    ("for CAPI ... a field on the events called AmazonConsent that takes the JSON of the
    consent fields"); and the event reference,
    https://advertising.amazon.com/API/docs/en-us/guides/events/events, which the stored
    documentation here does not include: the JSON names ``amazonConsent``, ``amznUserData``
    and ``amznAdStorage`` are as Amazon's partner integrations send them (Segment's and
    Commanders Act's Amazon Conversions API destinations). An event carries match keys
    (personal data), so it is sent only when ``amzn_user_data`` is granted. Merge ``fields``
    into each event of ``eventData``.
    """
    signals = platform_signals(decisions, mapping, gpc=gpc)["amazon_ads"]
    amazon_consent = {
        "amznAdStorage": _upper(signals["amzn_ad_storage"]),
        "amznUserData": _upper(signals["amzn_user_data"]),
    }
    return _result(
        "amazon_ads",
        signals,
        gate="amzn_user_data",
        fields={"consent": {"amazonConsent": amazon_consent}},
        user_data=signals["amzn_user_data"] == "granted",
    )


def microsoft_conversions_api(
    decisions: Answers,
    mapping: PlatformMapping = DEFAULT_PLATFORM_MAPPING,
    *,
    gpc: bool = False,
) -> PlatformConsent:
    """Microsoft Advertising Conversions API (UET server-side): the event's ``adStorageConsent``.

    Sources: the Conversions API guide,
    https://learn.microsoft.com/en-us/advertising/guides/uet-conversion-api-integration, and
    UET consent mode's one signal, ``ad_storage``,
    https://learn.microsoft.com/en-us/advertising/msa-help/hlp_ba_conc_uet_consent. The
    guide's field table was not in the stored documentation; the per-event
    ``adStorageConsent`` (``"G"``/``"D"``) is as the Segment and Stape integrations, which
    follow it, send it, and Stape documents that an event without it counts as granted (so
    it is always set here) and that a denied one is not used for any ad purpose (so such an
    event is not sent at all). Merge ``fields`` into each event of ``data``.
    """
    signals = platform_signals(decisions, mapping, gpc=gpc)["microsoft_uet"]
    return _result(
        "microsoft_uet",
        signals,
        gate="ad_storage",
        fields={"adStorageConsent": "G" if signals["ad_storage"] == "granted" else "D"},
        user_data=signals["ad_storage"] == "granted",
    )


def _signal(
    platform: str,
    signal: str,
    answers: Mapping[str, PurposeAnswer],
    mapping: PlatformMapping,
    *,
    gpc: bool,
) -> Signal:
    if gpc and signal in _SALE_OR_SHARING[platform]:
        return "denied"
    granting = mapping.granting(platform, signal)
    allowed = [p in answers and answers[p].allowed for p in granting]
    # Consent Mode: any allowed purpose grants; every other platform: all of them must.
    granted = any(allowed) if platform == "google" else bool(allowed) and all(allowed)
    return "granted" if granted else "denied"


def _result(
    platform: str,
    signals: dict[str, Signal],
    gate: str,
    fields: Mapping[str, Any],
    user_data: bool,
) -> PlatformConsent:
    send = signals[gate] == "granted"
    return PlatformConsent(
        platform=platform,
        send=send,
        fields=dict(fields) if send else {},
        user_data=send and user_data,
        signals=signals,
        why=f"{platform} {gate!r} {'granted' if send else 'denied: not sent'}",
    )


def _upper(signal: Signal) -> str:
    return "GRANTED" if signal == "granted" else "DENIED"


def _opted_out(
    answers: Mapping[str, PurposeAnswer], mapping: PlatformMapping, platform: str, *, gpc: bool
) -> bool:
    """``platform``'s ``consent`` is denied by opt-outs alone: every purpose that maps to it
    is allowed or refused with an opt-out reason (or the live GPC signal is on)."""
    granting = mapping.granting(platform, "consent")
    if not granting:
        return False
    if gpc:
        return True
    found = [answers.get(p) for p in granting]
    return all(a is not None and (a.allowed or a.reason in _OPT_OUT_REASONS) for a in found)


def _jurisdiction(decisions: Answers) -> str | None:
    """The one jurisdiction the decisions agree on, or None."""
    if not isinstance(decisions, Mapping):
        return None
    found = {getattr(value, "jurisdiction", None) for value in decisions.values()}
    found |= {
        value.get("jurisdiction") for value in decisions.values() if isinstance(value, Mapping)
    }
    found.discard(None)
    return str(found.pop()) if len(found) == 1 else None


def _is_us(jurisdiction: str | None) -> bool:
    return jurisdiction is not None and (jurisdiction == "US" or jurisdiction.startswith("US-"))
