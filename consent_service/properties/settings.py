"""A property's own settings as the admin edits them: name, the origins allowed to embed the
widget, languages, cookie domain, and the banner's words in each language.

Everything is checked before anything changes: one :class:`ValidationFailed` lists every
problem, and then nothing is saved. A change bumps the property's ``config_version`` so banner
caches everywhere refresh. Flushes, never commits: the caller owns the transaction."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.models import Property
from consent_service.properties.config_version import bump_config_version

# The banner's own words, in the order the widget shows them (and the admin lists them).
BANNER_TEXT_ORDER: tuple[str, ...] = (
    "title",
    "description",
    "accept_all",
    "reject_all",
    "customize",
    "save",
    "privacy_choices",
    "purposes_heading",
    "vendors_heading",
    "always_on",
    "policy_link",
    "policy_changed",
    "gpc_honoured",
    "download_receipt",
    "manage_link",
    "close",
)
BANNER_TEXT_KEYS = frozenset(BANNER_TEXT_ORDER)
# What the first layer and the preferences cannot do without, in every language. The other
# keys may stay empty in a language other than the default one: the default's text is shown.
REQUIRED_TEXT_KEYS = frozenset(
    {
        "title",
        "description",
        "accept_all",
        "reject_all",
        "customize",
        "save",
        "privacy_choices",
        "close",
    }
)
# Keys added after properties existed, which the widget can do without (it has an English
# fallback): optional even in the default language, so older properties still save.
LATER_TEXT_KEYS = frozenset({"manage_link"})
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


def snapshot(prop: Property) -> dict[str, object]:
    """What the audit log keeps of a property's settings, before and after a change."""
    return {
        "name": prop.name,
        "allowed_origins": list(prop.allowed_origins or []),
        "default_locale": prop.default_locale,
        "locales": list(prop.locales or []),
        "cookie_domain": prop.cookie_domain,
        "banner_texts": {
            locale: dict(texts) for locale, texts in (prop.banner_texts or {}).items()
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
    texts = _texts(default_locale, locales, new.banner_texts, errors)
    if errors:
        raise ValidationFailed("; ".join(error.detail for error in errors), errors=errors)
    before = snapshot(prop)
    prop.name = name
    prop.allowed_origins = origins
    prop.default_locale = default_locale
    prop.locales = locales
    prop.cookie_domain = cookie_domain
    prop.banner_texts = texts
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


def _texts(
    default: str,
    locales: list[str],
    values: Mapping[str, Mapping[str, str]],
    errors: list[FieldError],
) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for locale in locales:
        given = values.get(locale, {})
        texts[locale] = {}
        for key in BANNER_TEXT_ORDER:
            text = given.get(key, "").strip()
            required = key in REQUIRED_TEXT_KEYS or (
                locale == default and key not in LATER_TEXT_KEYS
            )
            if not text and required:
                errors.append(
                    FieldError(f"/banner_texts/{locale}/{key}", f"{locale}: {key} is required")
                )
            elif len(text) > MAX_TEXT:
                errors.append(
                    FieldError(
                        f"/banner_texts/{locale}/{key}",
                        f"{locale}: {key} is longer than {MAX_TEXT} characters",
                    )
                )
            elif text:
                texts[locale][key] = text
    return texts
