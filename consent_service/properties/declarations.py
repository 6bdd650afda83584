"""Declaring something a compliance scan found in a property's vendor list: a cookie, a
storage key or a third party's domain, under the vendor it belongs to, serving the purpose the
editor chose.

The vendor is the property's vendor of that name (or of the key the name makes), and is
created when the property has none. Everything goes through ``catalogue.add_vendor`` /
``catalogue.edit_vendor``: the same validation as the vendor editor, the same
``config_version`` bump, and nothing changed when a value is refused. The caller audits and
commits.

"Declared" means what the scanner's judge and the widget read from a vendor's cookies: a
cookie name where ``*`` matches any run of characters, on ``first-party`` (the page's own
site) or a third party's domain (that domain and its subdomains); a third-party host is a
vendor's when one of its cookies is declared on that host's domain.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from consent_service.properties.catalogue import MAX_COOKIE_FIELD
from consent_service.properties.catalogue import MAX_NAME
from consent_service.properties.catalogue import VendorChange
from consent_service.properties.catalogue import add_vendor
from consent_service.properties.catalogue import edit_vendor
from consent_service.properties.catalogue import vendor_snapshot

FIRST_PARTY = "first-party"
SESSION = "session"


@dataclasses.dataclass(frozen=True)
class Seen:
    """What the scan saw: a cookie (``name``, its jar ``domain``, whether it was third-party),
    a storage key (``name`` only) or a request's ``host`` (``name`` empty)."""

    name: str = ""
    domain: str | None = None
    third_party: bool = False
    host: str | None = None

    def describe(self) -> str:
        return f"the host {self.host}" if self.host else self.name


@dataclasses.dataclass(frozen=True)
class CookieDeclaration:
    """One row for a vendor's cookie list, and whose it is."""

    vendor_name: str
    purpose: str
    name: str  # the pattern: ``*`` matches any run of characters
    domain: str  # FIRST_PARTY or the third party's domain
    duration: str  # an ISO 8601 duration (P2Y, PT30M) or "session"
    description: str

    def cookie(self) -> dict[str, str]:
        return {
            "name": self.name,
            "domain": self.domain,
            "duration": self.duration[: MAX_COOKIE_FIELD["duration"]],
            "description": self.description[: MAX_COOKIE_FIELD["description"]],
        }


@dataclasses.dataclass(frozen=True)
class Declared:
    """The vendor the cookie now belongs to; ``before`` is its state before (None: new)."""

    vendor: Vendor
    before: dict[str, object] | None

    @property
    def created(self) -> bool:
        return self.before is None


def declaring_vendor(vendors: Iterable[Vendor], seen: Seen) -> Vendor | None:
    """The first vendor whose declared cookies cover what was seen, if any."""
    for vendor in vendors:
        for cookie in vendor.cookies or []:
            if _covers(cookie.get("name", ""), cookie.get("domain", ""), seen):
                return vendor
    return None


def declare_cookie(
    session: Session, prop: Property, declaration: CookieDeclaration, seen: Seen
) -> Declared:
    """Add ``declaration`` to the property's vendor list; ValidationFailed (nothing changed)
    when it is declared already, the purpose is not the property's, or the vendor editor would
    refuse the result."""
    vendors = list(session.scalars(sa.select(Vendor).where(Vendor.property_id == prop.id)))
    errors = _purpose_errors(session, prop, declaration.purpose)
    holder = declaring_vendor(vendors, seen)
    if holder is not None:
        errors.append(
            FieldError(
                "/name",
                f"{seen.describe()} is already declared by the vendor {holder.name} ({holder.key})",
            )
        )
    if not _covers(declaration.name, declaration.domain, seen):
        errors.append(
            FieldError(
                "/name",
                f"the cookie name {declaration.name!r} on {declaration.domain} would not "
                f"cover {seen.describe()}",
            )
        )
    if errors:
        details = "; ".join(error.detail for error in errors)
        raise ValidationFailed(f"{details} (nothing was added)", errors=errors)
    vendor = _vendor_named(vendors, declaration.vendor_name)
    if vendor is None:
        change = VendorChange(
            name=declaration.vendor_name[:MAX_NAME],
            country=None,
            privacy_policy_url=None,
            purposes=[declaration.purpose],
            cookies=[declaration.cookie()],
        )
        return Declared(
            add_vendor(session, prop, vendor_key(declaration.vendor_name), change), None
        )
    before = vendor_snapshot(vendor)
    purposes = [p.key for p in vendor.purposes]
    change = VendorChange(
        name=vendor.name,
        country=vendor.country,
        privacy_policy_url=vendor.privacy_policy_url,
        purposes=[*purposes, *([] if declaration.purpose in purposes else [declaration.purpose])],
        cookies=[*(dict(c) for c in vendor.cookies or []), declaration.cookie()],
    )
    return Declared(edit_vendor(session, vendor, change), before)


def vendor_key(name: str) -> str:
    """A vendor's key from its name: ``Google Analytics`` -> ``google-analytics``, ``Ströer``
    -> ``stroer`` (accents dropped)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:64].rstrip("-") or "vendor"


_WORDS = re.compile(
    r"^(\d{1,5})\s*(year|month|week|day|hour|minute|second)s?$", re.IGNORECASE | re.ASCII
)
_DATE_UNITS = {"year": "Y", "month": "M", "week": "W", "day": "D"}
_TIME_UNITS = {"hour": "H", "minute": "M", "second": "S"}


def duration_from_words(text: str) -> str:
    """A lifetime as the Open Cookie Database words it, as the vendor list keeps it: ``2
    years`` -> ``P2Y``, ``30 minutes`` -> ``PT30M``, any ``session`` -> ``session``; other
    words stay as written (the banner shows them as they are)."""
    words = " ".join(text.split())
    if "session" in words.lower():
        return SESSION
    match = _WORDS.match(words)
    if match is None:
        return words
    number, unit = int(match.group(1)), match.group(2).lower()
    if unit in _TIME_UNITS:
        return f"PT{number}{_TIME_UNITS[unit]}"
    return f"P{number}{_DATE_UNITS[unit]}"


def _covers(pattern: str, domain: str, seen: Seen) -> bool:
    """Whether a cookie row (``pattern`` on ``domain``) declares what was seen."""
    if seen.host is not None:
        wanted = domain.lstrip(".").lower()
        host = seen.host.lower()
        return bool(wanted) and domain != FIRST_PARTY and _within(host, wanted)
    if not fnmatch.fnmatchcase(seen.name, pattern):
        return False
    if seen.domain is None or not domain:
        return True
    if domain == FIRST_PARTY:
        return not seen.third_party
    return _within(seen.domain.lstrip(".").lower(), domain.lstrip(".").lower())


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _vendor_named(vendors: Iterable[Vendor], name: str) -> Vendor | None:
    """The property's vendor called ``name`` (in any case), or whose key that name makes."""
    folded, key = name.strip().casefold(), vendor_key(name)
    found = [v for v in vendors if v.name.strip().casefold() == folded]
    return found[0] if found else next((v for v in vendors if v.key == key), None)


def _purpose_errors(session: Session, prop: Property, purpose: str) -> list[FieldError]:
    if not purpose:
        return [FieldError("/purpose", "choose the purpose the vendor's cookie serves")]
    known = session.scalar(
        sa.select(Purpose.id).where(Purpose.property_id == prop.id, Purpose.key == purpose)
    )
    if known is None:
        return [FieldError("/purpose", f"{purpose!r} is not a purpose of {prop.key}")]
    return []
