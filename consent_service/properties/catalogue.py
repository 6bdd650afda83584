"""A property's catalogue as the admin changes it: its purposes (texts, legal basis, Google
Consent Mode types, US opt-out categories, other platforms' signals, order) and its vendors
(with their cookies).

Every function validates first and changes nothing when a value is refused
(:class:`ValidationFailed`, one :class:`FieldError` per field); every change bumps the
property's ``config_version`` so banner caches drop the old banner. Functions flush, never
commit: the caller commits with its audit entry.

Purposes are added and edited here but never deleted: receipts name the purposes a visitor
decided on, and those receipts must stay readable. Essential purposes come only from the
property's reviewed definition (``demo.py``); a purpose added here is never essential.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.jurisdictions.regions import COUNTRIES
from consent_service.jurisdictions.rules import OPT_OUT_CATEGORIES
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from consent_service.properties.config_version import bump_config_version
from consent_service.properties.platforms import default_platform_signals
from consent_service.properties.platforms import normalised
from consent_service.properties.platforms import signal_errors

LEGAL_BASES = ("consent", "legitimate_interest", "contract", "legal_obligation")
CONSENT_MODE_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
COOKIE_FIELDS = ("name", "domain", "duration", "description")
# The keys of properties, purposes, vendors and documents. \Z, not $: "$" also matches before
# a final newline, and "shop\n" is not a slug.
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_URL = 500
MAX_POSITION = 999
MAX_COOKIES = 100
MAX_COOKIE_FIELD = {"name": 200, "domain": 253, "duration": 64, "description": 1000}


@dataclasses.dataclass(frozen=True)
class PurposeChange:
    """What an editor may set on a purpose. ``texts``: {locale: {"name", "description"}}."""

    texts: dict[str, dict[str, str]]
    legal_basis: str
    consent_mode: list[str]
    opt_out_categories: list[str]
    position: int
    # {platform: [signal]} (``properties.platforms``). None: a new purpose gets the defaults of
    # its ``consent_mode``, an edited one keeps its mapping.
    platform_signals: dict[str, list[str]] | None = None


@dataclasses.dataclass(frozen=True)
class VendorChange:
    """What an editor may set on a vendor. ``cookies``: rows of ``COOKIE_FIELDS``; rows with
    every field empty are dropped."""

    name: str
    country: str | None
    privacy_policy_url: str | None
    purposes: list[str]
    cookies: list[dict[str, str]]


def locales(prop: Property) -> list[str]:
    """The property's languages, its default first."""
    return list(dict.fromkeys([prop.default_locale, *(prop.locales or [])]))


def add_purpose(session: Session, prop: Property, key: str, change: PurposeChange) -> Purpose:
    """A new, non-essential purpose of ``prop``."""
    errors = _key_errors(key, "/key")
    if not errors and _purpose(session, prop.id, key) is not None:
        errors.append(FieldError("/key", f"the property already has a purpose {key!r}"))
    errors += _purpose_errors(prop, change, essential=False)
    _raise(errors, "the purpose was not added")
    purpose = Purpose(property_id=prop.id, key=key, essential=False)
    if change.platform_signals is None:
        change = dataclasses.replace(
            change,
            platform_signals=default_platform_signals(
                change.consent_mode, change.opt_out_categories
            ),
        )
    _apply_purpose(purpose, prop, change)
    session.add(purpose)
    bump_config_version(session, prop.id)
    session.flush()
    return purpose


def edit_purpose(session: Session, purpose: Purpose, change: PurposeChange) -> Purpose:
    """Change a purpose's texts, legal basis, types and position (never its key or whether
    it is essential)."""
    prop = _property(session, purpose.property_id)
    _raise(_purpose_errors(prop, change, essential=purpose.essential), "the purpose was not saved")
    _apply_purpose(purpose, prop, change)
    bump_config_version(session, prop.id)
    session.flush()
    return purpose


def next_position(prop: Property) -> int:
    return min(MAX_POSITION, max((p.position for p in prop.purposes), default=-1) + 1)


def add_vendor(session: Session, prop: Property, key: str, change: VendorChange) -> Vendor:
    errors = _key_errors(key, "/key")
    if not errors and session.scalar(
        sa.select(Vendor.id).where(Vendor.property_id == prop.id, Vendor.key == key)
    ):
        errors.append(FieldError("/key", f"the property already has a vendor {key!r}"))
    purposes, vendor_errors = _vendor_errors(session, prop, change)
    _raise(errors + vendor_errors, "the vendor was not added")
    vendor = Vendor(property_id=prop.id, key=key)
    _apply_vendor(vendor, change, purposes)
    session.add(vendor)
    bump_config_version(session, prop.id)
    session.flush()
    return vendor


def edit_vendor(session: Session, vendor: Vendor, change: VendorChange) -> Vendor:
    prop = _property(session, vendor.property_id)
    purposes, errors = _vendor_errors(session, prop, change)
    _raise(errors, "the vendor was not saved")
    _apply_vendor(vendor, change, purposes)
    bump_config_version(session, prop.id)
    session.flush()
    return vendor


def delete_vendor(session: Session, vendor: Vendor) -> None:
    """Remove a vendor (and its cookies) from the banner. Receipts name purposes, not
    vendors, so none is affected."""
    property_id = vendor.property_id
    session.delete(vendor)
    bump_config_version(session, property_id)
    session.flush()


def purpose_snapshot(purpose: Purpose) -> dict[str, object]:
    """A purpose's state, for the audit log."""
    return {
        "key": purpose.key,
        "essential": purpose.essential,
        "position": purpose.position,
        "legal_basis": purpose.legal_basis,
        "consent_mode": list(purpose.consent_mode or []),
        "opt_out_categories": list(purpose.opt_out_categories or []),
        "platform_signals": {
            platform: list(names) for platform, names in (purpose.platform_signals or {}).items()
        },
        "texts": {locale: dict(values) for locale, values in (purpose.texts or {}).items()},
    }


def vendor_snapshot(vendor: Vendor) -> dict[str, object]:
    """A vendor's state, for the audit log."""
    return {
        "key": vendor.key,
        "name": vendor.name,
        "country": vendor.country,
        "privacy_policy_url": vendor.privacy_policy_url,
        "purposes": sorted(p.key for p in vendor.purposes),
        "cookies": [dict(c) for c in vendor.cookies or []],
    }


# --- validation ----------------------------------------------------------------------------


def _raise(errors: list[FieldError], what: str) -> None:
    if errors:
        details = "; ".join(error.detail for error in errors)
        raise ValidationFailed(f"{details} ({what})", errors=errors)


def _key_errors(key: str, pointer: str) -> list[FieldError]:
    if SLUG.match(key):
        return []
    return [
        FieldError(
            pointer,
            "the key must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a "
            "letter or digit",
        )
    ]


def _purpose_errors(prop: Property, change: PurposeChange, *, essential: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    known = locales(prop)
    for locale in change.texts:
        if locale not in known:
            errors.append(
                FieldError(f"/texts/{locale}", f"{locale!r} is not a language of the property")
            )
    for locale in known:
        values = change.texts.get(locale, {})
        name = values.get("name", "")
        description = values.get("description", "")
        if locale == prop.default_locale and not name.strip():
            errors.append(
                FieldError(f"/texts/{locale}/name", f"the name in {locale} (the default) is empty")
            )
        if len(name) > MAX_NAME:
            errors.append(
                FieldError(
                    f"/texts/{locale}/name", f"the {locale} name is over {MAX_NAME} characters"
                )
            )
        if len(description) > MAX_DESCRIPTION:
            errors.append(
                FieldError(
                    f"/texts/{locale}/description",
                    f"the {locale} description is over {MAX_DESCRIPTION} characters",
                )
            )
    if change.legal_basis not in LEGAL_BASES:
        errors.append(
            FieldError(
                "/legal_basis",
                f"{change.legal_basis!r} is not a legal basis ({', '.join(LEGAL_BASES)})",
            )
        )
    errors += _members(
        "/consent_mode", change.consent_mode, CONSENT_MODE_TYPES, "consent mode type"
    )
    errors += _members(
        "/opt_out_categories", change.opt_out_categories, OPT_OUT_CATEGORIES, "opt-out category"
    )
    if change.platform_signals is not None:
        errors += signal_errors("/platform_signals", change.platform_signals)
    if essential and change.opt_out_categories:
        errors.append(
            FieldError(
                "/opt_out_categories",
                "an essential purpose is always on, so it cannot be an opt-out category",
            )
        )
    if not 0 <= change.position <= MAX_POSITION:
        errors.append(FieldError("/position", f"the position must be 0 to {MAX_POSITION}"))
    return errors


def _members(
    pointer: str, values: Iterable[str], allowed: tuple[str, ...], what: str
) -> list[FieldError]:
    return [
        FieldError(pointer, f"{value!r} is not a {what} ({', '.join(allowed)})")
        for value in values
        if value not in allowed
    ]


def _vendor_errors(
    session: Session, prop: Property, change: VendorChange
) -> tuple[list[Purpose], list[FieldError]]:
    errors: list[FieldError] = []
    if not change.name.strip():
        errors.append(FieldError("/name", "the vendor's name is empty"))
    elif len(change.name) > MAX_NAME:
        errors.append(FieldError("/name", f"the vendor's name is over {MAX_NAME} characters"))
    if change.country is not None and change.country not in COUNTRIES:
        errors.append(
            FieldError("/country", f"{change.country!r} is not an ISO 3166-1 alpha-2 country code")
        )
    if change.privacy_policy_url is not None:
        problem = _url_problem(change.privacy_policy_url)
        if problem:
            errors.append(FieldError("/privacy_policy_url", problem))
    own = {
        p.key: p for p in session.scalars(sa.select(Purpose).where(Purpose.property_id == prop.id))
    }
    if not change.purposes:
        errors.append(FieldError("/purposes", "choose at least one purpose the vendor serves"))
    for key in change.purposes:
        if key not in own:
            errors.append(FieldError("/purposes", f"{key!r} is not a purpose of {prop.key}"))
    rows = [row for row in change.cookies if any(row.get(f, "").strip() for f in COOKIE_FIELDS)]
    if len(rows) > MAX_COOKIES:
        errors.append(FieldError("/cookies", f"a vendor lists at most {MAX_COOKIES} cookies"))
    for index, row in enumerate(rows):
        if not row.get("name", "").strip():
            errors.append(FieldError(f"/cookies/{index}/name", f"cookie {index + 1} has no name"))
        for field in COOKIE_FIELDS:
            if len(row.get(field, "")) > MAX_COOKIE_FIELD[field]:
                errors.append(
                    FieldError(
                        f"/cookies/{index}/{field}",
                        f"cookie {index + 1}: the {field} is over "
                        f"{MAX_COOKIE_FIELD[field]} characters",
                    )
                )
    purposes = [own[key] for key in dict.fromkeys(change.purposes) if key in own]
    return purposes, errors


def _url_problem(url: str) -> str | None:
    """Only an absolute https address is shown to visitors as a link."""
    if len(url) > MAX_URL:
        return f"the privacy policy address is over {MAX_URL} characters"
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "the privacy policy address contains spaces or control characters"
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "the privacy policy address is not a web address"
    if parts.scheme.lower() != "https" or not hostname:
        return "the privacy policy address must start with https://"
    if parts.username or parts.password:
        return "the privacy policy address must not contain a user name or password"
    return None


# --- changes -------------------------------------------------------------------------------


def _apply_purpose(purpose: Purpose, prop: Property, change: PurposeChange) -> None:
    texts: dict[str, dict[str, str]] = {}
    for locale in locales(prop):
        values = change.texts.get(locale, {})
        kept = {
            field: values.get(field, "").strip()
            for field in ("name", "description")
            if values.get(field, "").strip()
        }
        if kept:
            texts[locale] = kept
    purpose.texts = texts
    purpose.legal_basis = change.legal_basis
    purpose.consent_mode = [t for t in CONSENT_MODE_TYPES if t in change.consent_mode]
    purpose.opt_out_categories = [c for c in OPT_OUT_CATEGORIES if c in change.opt_out_categories]
    if change.platform_signals is not None:
        purpose.platform_signals = normalised(change.platform_signals)
    purpose.position = change.position


def _apply_vendor(vendor: Vendor, change: VendorChange, purposes: list[Purpose]) -> None:
    vendor.name = change.name.strip()
    vendor.country = change.country
    vendor.privacy_policy_url = change.privacy_policy_url
    vendor.purposes = purposes
    vendor.cookies = [
        {field: row.get(field, "").strip() for field in COOKIE_FIELDS}
        for row in change.cookies
        if any(row.get(field, "").strip() for field in COOKIE_FIELDS)
    ]


def _purpose(session: Session, property_id: int, key: str) -> Purpose | None:
    return session.scalar(
        sa.select(Purpose).where(Purpose.property_id == property_id, Purpose.key == key)
    )


def _property(session: Session, property_id: int) -> Property:
    prop = session.get(Property, property_id)
    assert prop is not None  # a foreign key
    return prop
