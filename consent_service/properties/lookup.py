"""Look-ups of a property and what it offers, shaped for the hot paths.

Recording a consent or deciding a look-up needs the property, its purposes and the state of
its consent document; each is read here in one statement built once per process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Collection
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from consent_service.errors import OriginNotAllowed
from consent_service.errors import UnknownProperty
from consent_service.infra.database import execute_core
from consent_service.infra.urls import origin_of
from consent_service.jurisdictions.rules import OPT_OUT_CATEGORIES
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from consent_service.models import VersionStatus


@dataclasses.dataclass(frozen=True)
class PurposeFacts:
    key: str
    essential: bool
    opt_out_categories: frozenset[str] = frozenset()

    @property
    def gpc_applies(self) -> bool:
        return not self.opt_out_categories.isdisjoint(OPT_OUT_CATEGORIES)


@dataclasses.dataclass(frozen=True)
class OfferedPurpose:
    """A purpose the property offers. ``changed_in``: the latest material policy version in
    effect that touched it (changed or added it); a choice for it made under an earlier
    version is stale. None: no material version touched it."""

    id: int
    key: str
    essential: bool
    opt_out_categories: frozenset[str]
    changed_in: int | None = None

    @property
    def facts(self) -> PurposeFacts:
        return PurposeFacts(self.key, self.essential, self.opt_out_categories)


@dataclasses.dataclass(frozen=True)
class PolicyRef:
    """A published version as receipts cite it."""

    id: int
    number: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class ConsentContext:
    """What a consent is checked against: the property, its purposes, its consent document."""

    property_id: int
    property_key: str
    config_version: int
    allowed_origins: frozenset[str]
    locales: tuple[str, ...]
    default_locale: str
    controller_name: str | None
    document_id: int | None
    document_key: str
    current: PolicyRef | None
    last_material: int | None
    purposes: tuple[OfferedPurpose, ...]
    # The property's stricter-than-the-law settings per jurisdiction code (see
    # ``jurisdiction_overrides.py``), as stored.
    overrides: Mapping[str, Mapping[str, object]] = dataclasses.field(default_factory=dict)
    # The ad and shop platforms the property enables, as stored.
    platforms: tuple[str, ...] = ()
    # When a version published to come into effect later does so, and this context with it
    # stops being current (None: no such version); every other change bumps config_version.
    valid_until: dt.datetime | None = None


def get_property(session: Session, key: str, *, with_catalogue: bool = False) -> Property:
    """The property named ``key``; ``with_catalogue`` loads its purposes and vendors (with
    theirs) in the same round trips, for code that walks the whole catalogue."""
    query = sa.select(Property).where(Property.key == key)
    if with_catalogue:
        query = query.options(
            selectinload(Property.purposes),
            selectinload(Property.vendors).selectinload(Vendor.purposes),
        )
    prop = session.scalar(query)
    if prop is None:
        raise UnknownProperty(f"there is no property {key!r}")
    return prop


def any_property_allows(session: Session, origin: str) -> bool:
    """Whether some property lists ``origin``: enough to answer a CORS preflight, which
    does not say which property the request is for (the request itself is checked again)."""
    for origins in session.scalars(sa.select(Property.allowed_origins)):
        if origin in (origins or ()):
            return True
    return False


def check_origin(
    origin: str | None, allowed_origins: Collection[str], property_key: str, *, base_url: str
) -> None:
    """A browser page may act for a property only from an origin the property lists, or from
    the service's own pages (its demo shop, its preferences page); no ``Origin``: not a
    browser, nothing to check. Raises OriginNotAllowed, naming the setting that allows it."""
    if not origin or origin in allowed_origins or origin == origin_of(base_url):
        return
    raise OriginNotAllowed(
        f"{origin} is not an allowed origin of property {property_key!r}: add it to "
        f'"Allowed origins" at {base_url.rstrip("/")}/admin/properties/{property_key}'
    )


def consent_context(session: Session, property_key: str, *, now: dt.datetime) -> ConsentContext:
    rows = execute_core(session, _context_query(), {"key": property_key, "now": now}).all()
    if not rows:
        raise UnknownProperty(f"there is no property {property_key!r}")
    first = rows[0]
    changes = _material_changes(first.material_changes)
    current = (
        PolicyRef(first.version_id, first.version_number, first.version_sha256)
        if first.version_id is not None
        else None
    )
    return ConsentContext(
        property_id=first.property_id,
        property_key=property_key,
        config_version=first.config_version,
        allowed_origins=frozenset(first.allowed_origins or ()),
        locales=tuple(first.locales or ()),
        default_locale=first.default_locale,
        controller_name=(first.controller or {}).get("name"),
        document_id=first.document_id,
        document_key=first.document_key,
        current=current,
        last_material=max(changes, default=None),
        purposes=tuple(
            OfferedPurpose(
                r.purpose_id,
                r.purpose_key,
                r.essential,
                frozenset(r.opt_out_categories or ()),
                _last_change(changes, r.purpose_key),
            )
            for r in rows
            if r.purpose_id is not None
        ),
        overrides=first.jurisdiction_overrides or {},
        platforms=tuple(first.platforms or ()),
        valid_until=first.next_effective_at,
    )


def _material_changes(aggregated: str | None) -> dict[int, frozenset[str]]:
    """Each material version in effect -> the purposes it touched (empty: every purpose, as
    versions published before purposes were named meant)."""
    changes: dict[int, frozenset[str]] = {}
    for line in (aggregated or "").splitlines():
        number, _, affected = line.partition(":")
        changes[int(number)] = frozenset(json.loads(affected or "[]"))
    return changes


def _last_change(changes: Mapping[int, frozenset[str]], purpose_key: str) -> int | None:
    """The latest material version in effect that touched ``purpose_key``; None: none did."""
    return max(
        (number for number, affected in changes.items() if not affected or purpose_key in affected),
        default=None,
    )


@functools.cache
def _context_query() -> sa.Select[*tuple[Any, ...]]:
    published_in_effect = sa.and_(
        PolicyVersion.document_id == PolicyDocument.id,
        PolicyVersion.status == VersionStatus.PUBLISHED,
        PolicyVersion.effective_at <= sa.bindparam("now"),
    )
    current_id = (
        sa.select(PolicyVersion.id)
        .where(published_in_effect)
        .order_by(PolicyVersion.number.desc())
        .limit(1)
        .correlate(PolicyDocument)
        .scalar_subquery()
    )
    # Every material version in effect as "number:[affected purposes as JSON]", one per line
    # (a JSON list of slugs holds no newline): parsed once per context into each purpose's
    # last change (``_material_changes``), so no purpose needs a subquery of its own.
    material_changes = (
        sa.select(
            sa.func.aggregate_strings(
                sa.cast(PolicyVersion.number, sa.String)
                + ":"
                + sa.cast(PolicyVersion.affected_purposes, sa.Text),
                "\n",
            )
        )
        .where(published_in_effect, PolicyVersion.material.is_(True))
        .correlate(PolicyDocument)
        .scalar_subquery()
    )
    next_effective_at = (
        sa.select(sa.func.min(PolicyVersion.effective_at))
        .where(
            PolicyVersion.document_id == PolicyDocument.id,
            PolicyVersion.status == VersionStatus.PUBLISHED,
            PolicyVersion.effective_at > sa.bindparam("now"),
        )
        .correlate(PolicyDocument)
        .scalar_subquery()
    )
    return (
        sa.select(
            Property.id.label("property_id"),
            Property.config_version,
            Property.allowed_origins,
            Property.locales,
            Property.default_locale,
            Property.controller,
            Property.jurisdiction_overrides,
            Property.platforms,
            Property.consent_document_key.label("document_key"),
            PolicyDocument.id.label("document_id"),
            PolicyVersion.id.label("version_id"),
            PolicyVersion.number.label("version_number"),
            PolicyVersion.sha256.label("version_sha256"),
            material_changes.label("material_changes"),
            next_effective_at.label("next_effective_at"),  # min() keeps the UTC type
            Purpose.id.label("purpose_id"),
            Purpose.key.label("purpose_key"),
            Purpose.essential,
            Purpose.opt_out_categories,
        )
        .select_from(Property)
        .outerjoin(Purpose, Purpose.property_id == Property.id)
        .outerjoin(
            PolicyDocument,
            sa.and_(
                PolicyDocument.property_id == Property.id,
                PolicyDocument.key == Property.consent_document_key,
            ),
        )
        .outerjoin(PolicyVersion, PolicyVersion.id == current_id)
        .where(Property.key == sa.bindparam("key"))
        .order_by(Purpose.position)
    )
