"""A property's own settings as the admin edits them: name, the origins allowed to embed the
widget, languages, cookie domain, the ad and shop platforms the widget tells the choice, and
the banner's words in each language: shared ones, and for each regime (opt-in, opt-out,
notice) the ones that must match how the law presents the choice there.

Everything is checked before anything changes: one :class:`ValidationFailed` lists every
problem, and then nothing is saved. A change bumps the property's ``config_version`` so banner
caches everywhere refresh. Flushes, never commits: the caller owns the transaction."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.jurisdictions.rules import Regime
from consent_service.models import Property
from consent_service.properties.config_version import bump_config_version
from consent_service.properties.platforms import ordered_platforms
from consent_service.properties.platforms import platform_errors

# The banner's words that do not depend on the law's regime, in the order the admin lists them.
SHARED_TEXT_ORDER: tuple[str, ...] = (
    "customize",
    "save",
    "privacy_choices",
    "purposes_heading",
    "vendors_heading",
    "always_on",
    "policy_link",
    "policy_changed",
    "gpc_honoured",
    "gpc_status",
    "reoptin_confirm",
    "confirm",
    "download_receipt",
    "manage_link",
    "close",
)
# The words that must match how the law presents the choice: an opt-out banner must not ask
# "with your permission" for trackers that already run, a notice has no "reject all" but an
# "OK". ``accept_all`` and ``reject_all`` belong to every regime: the preferences layer shows
# them everywhere. ``acknowledge`` only where the first layer offers it (the notice).
REGIME_TEXT_ORDER: dict[Regime, tuple[str, ...]] = {
    Regime.OPT_IN: ("title", "description", "accept_all", "reject_all"),
    Regime.OPT_OUT: ("title", "description", "accept_all", "reject_all"),
    Regime.NOTICE: ("title", "description", "acknowledge", "accept_all", "reject_all"),
}
REGIME_TEXT_KEYS = frozenset(key for keys in REGIME_TEXT_ORDER.values() for key in keys)
# Every key the banner API's ``texts`` carries: the shared words merged with the regime's.
BANNER_TEXT_KEYS = frozenset(SHARED_TEXT_ORDER) | REGIME_TEXT_KEYS
# Shared words the preferences cannot do without, in every language. The other shared keys may
# stay empty in a language other than the default one: the default's text is shown. A regime's
# words are required in the default language; other languages fall back to it key by key.
REQUIRED_TEXT_KEYS = frozenset({"customize", "save", "privacy_choices", "close"})
# Keys added after properties existed, which the widget can do without (it has an English
# fallback): optional even in the default language, so older properties still save.
LATER_TEXT_KEYS = frozenset({"manage_link"})
# A button's label: the first layer's buttons must stay equally prominent, and a paragraph on
# one of them would not be.
BUTTON_KEYS = frozenset(
    {"accept_all", "reject_all", "acknowledge", "customize", "save", "confirm", "close"}
)
MAX_BUTTON = 80
MAX_NAME = 200
MAX_TEXT = 2000
MAX_ORIGINS = 50
MAX_LOCALES = 30
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?\Z")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


@dataclasses.dataclass(frozen=True)
class PropertySettings:
    """The editable settings, as entered (origins and locales one per item)."""

    name: str
    allowed_origins: Sequence[str]
    default_locale: str
    locales: Sequence[str]
    cookie_domain: str
    banner_texts: Mapping[str, Mapping[str, str]]
    # {regime: {locale: {key: text}}}, keys from REGIME_TEXT_ORDER
    regime_texts: Mapping[str, Mapping[str, Mapping[str, str]]]
    # Keys of ``properties.platforms.PLATFORMS`` the widget tells the choice.
    platforms: Sequence[str] = ()


def snapshot(prop: Property) -> dict[str, object]:
    """What the audit log keeps of a property's settings, before and after a change."""
    return {
        "name": prop.name,
        "allowed_origins": list(prop.allowed_origins or []),
        "default_locale": prop.default_locale,
        "locales": list(prop.locales or []),
        "cookie_domain": prop.cookie_domain,
        "platforms": list(prop.platforms or []),
        "banner_texts": {
            locale: dict(texts) for locale, texts in (prop.banner_texts or {}).items()
        },
        "regime_texts": {
            regime: {locale: dict(texts) for locale, texts in by_locale.items()}
            for regime, by_locale in (prop.regime_texts or {}).items()
        },
    }


def update_property_settings(session: Session, prop: Property, new: PropertySettings) -> bool:
    """Apply ``new`` to ``prop``; True when anything changed. Raises :class:`ValidationFailed`
    (and changes nothing) when any value is not acceptable."""
    errors: list[FieldError] = []
    name = new.name.strip()
    if not name:
        errors.append(FieldError("/name", "a name is required"))
    elif len(name) > MAX_NAME:
        errors.append(FieldError("/name", f"the name is longer than {MAX_NAME} characters"))
    origins = _origins(new.allowed_origins, errors)
    default_locale = new.default_locale.strip()
    if not LOCALE.match(default_locale):
        errors.append(
            FieldError(
                "/default_locale", f"{default_locale!r} is not a language code like en or de-CH"
            )
        )
    locales = _locales(default_locale, new.locales, errors)
    cookie_domain = _cookie_domain(new.cookie_domain, errors)
    errors += platform_errors("/platforms", new.platforms)
    texts = _words(
        locales,
        new.banner_texts,
        SHARED_TEXT_ORDER,
        errors,
        where="/banner_texts",
        required=lambda locale, key: (
            key in REQUIRED_TEXT_KEYS or (locale == default_locale and key not in LATER_TEXT_KEYS)
        ),
    )
    regime_texts = {
        regime.value: _words(
            locales,
            new.regime_texts.get(regime.value, {}),
            REGIME_TEXT_ORDER[regime],
            errors,
            where=f"/regime_texts/{regime.value}",
            required=lambda locale, _key: locale == default_locale,
            name=f"{regime.value.replace('_', '-')} ",
        )
        for regime in Regime
    }
    if errors:
        raise ValidationFailed("; ".join(error.detail for error in errors), errors=errors)
    before = snapshot(prop)
    prop.name = name
    prop.allowed_origins = origins
    prop.default_locale = default_locale
    prop.locales = locales
    prop.cookie_domain = cookie_domain
    prop.platforms = ordered_platforms(new.platforms)
    prop.banner_texts = texts
    prop.regime_texts = regime_texts
    if snapshot(prop) == before:
        return False
    session.flush()
    bump_config_version(session, prop.id)
    session.flush()
    session.expire(prop, ["config_version"])  # bumped in SQL: read it again when asked
    return True


def _origins(values: Sequence[str], errors: list[FieldError]) -> list[str]:
    origins: list[str] = []
    for index, raw in enumerate(value.strip() for value in values):
        if not raw:
            continue
        origin = normalise_origin(raw)
        if origin is None:
            errors.append(
                FieldError(
                    f"/allowed_origins/{index}",
                    f"{raw!r} is not an origin: write scheme://host or scheme://host:port "
                    "with http or https, and no path, query or fragment "
                    "(e.g. https://shop.example)",
                )
            )
        elif origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        errors.append(FieldError("/allowed_origins", f"at most {MAX_ORIGINS} origins"))
    return origins


def normalise_origin(value: str) -> str | None:
    """``HTTPS://Shop.Example`` -> ``https://shop.example``; None for anything not an origin."""
    if any(ch.isspace() for ch in value) or "\\" in value:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.path
        or parts.query
        or parts.fragment
        or value.endswith(("?", "#"))
        or not _valid_host(host)
    ):
        return None
    if port is not None and not 0 < port < 65536:
        return None
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port is not None else "")


def _valid_host(host: str) -> bool:
    if ":" in host:  # an IPv6 literal, which urlsplit has already unbracketed
        return all(ch in "0123456789abcdef:." for ch in host)
    return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in host.split("."))


def _locales(default: str, values: Sequence[str], errors: list[FieldError]) -> list[str]:
    locales: list[str] = [default] if LOCALE.match(default) else []
    for index, raw in enumerate(value.strip() for value in values):
        if not raw:
            continue
        if not LOCALE.match(raw):
            errors.append(
                FieldError(f"/locales/{index}", f"{raw!r} is not a language code like en or de-CH")
            )
        elif raw not in locales:
            locales.append(raw)
    if len(locales) > MAX_LOCALES:
        errors.append(FieldError("/locales", f"at most {MAX_LOCALES} languages"))
    return locales


def _cookie_domain(value: str, errors: list[FieldError]) -> str | None:
    domain = value.strip().lower()
    if not domain:
        return None
    bare = domain.removeprefix(".")
    if "." not in bare or ":" in bare or not _valid_host(bare):
        errors.append(
            FieldError(
                "/cookie_domain",
                f"{value.strip()!r} is not a domain name like shop.example (or leave it empty)",
            )
        )
        return None
    return domain


def _words(
    locales: list[str],
    values: Mapping[str, Mapping[str, str]],
    keys: tuple[str, ...],
    errors: list[FieldError],
    *,
    where: str,
    required: Callable[[str, str], bool],
    name: str = "",
) -> dict[str, dict[str, str]]:
    """{locale: {key: text}}: each of ``keys`` stripped, empty ones (and languages with none)
    left out: they fall back to the default language when shown. An error for each required
    one that is empty, and for each one too long (a button's label is short: MAX_BUTTON)."""
    words: dict[str, dict[str, str]] = {}
    for locale in locales:
        given = values.get(locale, {})
        words[locale] = {}
        for key in keys:
            text = given.get(key, "").strip()
            pointer, label = f"{where}/{locale}/{key}", f"{locale}: {name}{key}"
            limit = MAX_BUTTON if key in BUTTON_KEYS else MAX_TEXT
            if not text and required(locale, key):
                errors.append(FieldError(pointer, f"{label} is required"))
            elif len(text) > limit:
                errors.append(FieldError(pointer, f"{label} is longer than {limit} characters"))
            elif text:
                words[locale][key] = text
    return {locale: texts for locale, texts in words.items() if texts}
