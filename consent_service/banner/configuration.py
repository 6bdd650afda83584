"""The banner configuration a visitor's widget renders: what the law of their region asks
for, in their language, with the property's purposes, vendors and current policy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.infra.urls import policy_page_url
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import VersionStatus
from consent_service.properties.lookup import consent_context
from consent_service.properties.lookup import get_property
from consent_service.properties.platforms import ordered_platforms
from consent_service.properties.settings import BANNER_TEXT_KEYS

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "dv", "yi", "ku"})
LOCALE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, loosely


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """Names one state of a property's banner (any change to the banner changes it), and
    carries what choosing a locale needs."""

    config_version: int
    policy_number: int | None
    locales: tuple[str, ...]
    default_locale: str
    # The property's jurisdiction overrides, frozen: (code, ((field, value), ...)), ...
    overrides: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()
    # The platforms it enables (catalogue order): what the synchronous stub sets defaults for.
    platforms: tuple[str, ...] = ()

    @property
    def override_map(self) -> dict[str, dict[str, object]]:
        return {code: dict(fields) for code, fields in self.overrides}


def load_fingerprint(session: Session, property_key: str, *, now: dt.datetime) -> Fingerprint:
    context = consent_context(session, property_key, now=now)
    return Fingerprint(
        config_version=context.config_version,
        policy_number=context.current.number if context.current else None,
        locales=context.locales,
        default_locale=context.default_locale,
        overrides=tuple(
            (code, tuple(sorted(fields.items())))
            for code, fields in sorted(context.overrides.items())
        ),
        platforms=tuple(ordered_platforms(context.platforms)),
    )


def negotiate_locale(
    requested: str | None, accept_language: str | None, available: tuple[str, ...], default: str
) -> str:
    """The best of ``available`` for the visitor: ``?locale=`` first, then Accept-Language,
    then the property's default. ``de-AT`` matches ``de``; an unknown language falls back."""
    if requested is not None and not LOCALE_TAG.match(requested):
        raise ValidationFailed(
            f"locale {requested!r} is not a language tag such as 'de' or 'pt-BR'",
            errors=[FieldError("/locale", "not a BCP 47 language tag")],
        )
    wanted = [requested] if requested else _accept_language(accept_language)
    lowered = {locale.lower(): locale for locale in available}
    for tag in wanted:
        tag = tag.lower()
        for candidate in (tag, tag.split("-")[0]):
            if candidate in lowered:
                return lowered[candidate]
    return default


def _accept_language(header: str | None) -> list[str]:
    ranked: list[tuple[float, str]] = []
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and LOCALE_TAG.match(tag) and quality > 0:
            ranked.append((quality, tag))
    return [tag for _, tag in sorted(ranked, key=lambda item: -item[0])]


def build_banner(
    session: Session,
    property_key: str,
    *,
    jurisdiction: Jurisdiction,
    locale: str,
    base_url: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Everything the widget needs for one (property, jurisdiction, locale)."""
    prop = get_property(session, property_key, with_catalogue=True)
    context = consent_context(session, property_key, now=now)
    opt_in = jurisdiction.regime is Regime.OPT_IN

    def text(values: dict[str, dict[str, str]], key: str) -> str:
        return values.get(locale, {}).get(key) or values.get(prop.default_locale, {}).get(key, "")

    changed_in = {purpose.key: purpose.changed_in for purpose in context.purposes}
    # Only the platforms the property enables: the widget loads their adapters when any is.
    platforms = ordered_platforms(prop.platforms or ())
    vendors_by_purpose: dict[str, list[str]] = {}
    for vendor in prop.vendors:
        for purpose in vendor.purposes:
            vendors_by_purpose.setdefault(purpose.key, []).append(vendor.key)
    return {
        "property": prop.key,
        "controller": prop.controller,
        "locale": locale,
        "locales": prop.locales,
        "direction": "rtl" if locale.split("-")[0].lower() in RTL_LANGUAGES else "ltr",
        "jurisdiction": _jurisdiction(jurisdiction),
        "texts": _texts(prop, jurisdiction.regime, text),
        "purposes": [
            {
                "key": purpose.key,
                "essential": purpose.essential,
                "legal_basis": purpose.legal_basis,
                "name": text(purpose.texts, "name"),
                "description": text(purpose.texts, "description"),
                # Nothing is pre-ticked where the law wants opt-in.
                "default": purpose.essential
                or (not opt_in and jurisdiction.purpose_defaults.get(purpose.key, True)),
                "consent_mode": purpose.consent_mode,
                "opt_out_categories": purpose.opt_out_categories,
                "platform_signals": {
                    platform: list(signals)
                    for platform, signals in (purpose.platform_signals or {}).items()
                    if platform in platforms
                },
                "vendors": vendors_by_purpose.get(purpose.key, []),
                # A stored choice for this purpose under an earlier version is stale.
                "changed_in": changed_in.get(purpose.key),
            }
            for purpose in prop.purposes
        ],
        "vendors": [
            {
                "key": vendor.key,
                "name": vendor.name,
                "country": vendor.country,
                "privacy_policy_url": vendor.privacy_policy_url,
                "purposes": [p.key for p in vendor.purposes],
                "cookies": vendor.cookies,
            }
            for vendor in prop.vendors
        ],
        "policy": {
            "document": context.document_key,
            "version": context.current.number if context.current else None,
            "sha256": context.current.sha256 if context.current else None,
            "url": (
                policy_page_url(base_url, prop.key, context.document_key, context.current.number)
                if context.current
                else None
            ),
            "last_material_version": context.last_material,
        },
        "platforms": platforms,
        "documents": _documents(session, prop, base_url, now),
        "consents_url": f"{base_url}/v1/consents",
    }


def _texts(
    prop: Property, regime: Regime, text: Callable[[dict[str, dict[str, str]], str], str]
) -> dict[str, str]:
    """The shared words merged with the regime's, each in the visitor's language or else the
    default one. The regime's win: an opt-out visitor must not read the opt-in "with your
    permission", nor a notice visitor a "reject all" that is not there."""
    by_regime = (prop.regime_texts or {}).get(regime.value, {})
    return {
        key: text(by_regime, key) or text(prop.banner_texts or {}, key)
        for key in sorted(BANNER_TEXT_KEYS)
    }


def _jurisdiction(rule: Jurisdiction) -> dict[str, Any]:
    return {
        "code": rule.code,
        "regime": rule.regime.value,
        "reject_all_first_layer": rule.reject_all_first_layer,
        "gpc_honoured": rule.honours_gpc,
        "consent_lifetime_days": rule.consent_lifetime.days,
        "first_layer": list(rule.first_layer),
        "reask_floor_months": rule.reask_floor_months,
        "gpc_status_display": rule.gpc_status_display,
        "reoptin_confirmation": rule.reoptin_confirmation,
        "material_change_consent": rule.material_change_consent,
        "links": [dataclasses.asdict(link) for link in rule.links],
    }


def _documents(
    session: Session, prop: Property, base_url: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Every policy document's version in effect, for the banner's links."""
    newest = (
        sa.select(PolicyVersion.document_id, sa.func.max(PolicyVersion.number).label("number"))
        .where(PolicyVersion.status == VersionStatus.PUBLISHED, PolicyVersion.effective_at <= now)
        .group_by(PolicyVersion.document_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(PolicyDocument.key, PolicyDocument.title, newest.c.number)
        .join(newest, newest.c.document_id == PolicyDocument.id)
        .where(PolicyDocument.property_id == prop.id)
        .order_by(PolicyDocument.key)
    ).all()
    return [
        {
            "key": key,
            "title": title,
            "version": number,
            "url": policy_page_url(base_url, prop.key, key, number),
        }
        for key, title, number in rows
    ]
