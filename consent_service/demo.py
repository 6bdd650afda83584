"""Loading a property (purposes, vendors, policy documents) from the reviewed files in
``policies/demo/<property>/``: it creates what is missing and never changes what exists, so
running it again (``make run`` does on every start) keeps what the admin edited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.banner.default_texts import completed
from consent_service.banner.default_texts import completed_regime_texts
from consent_service.banner.default_texts import default_texts
from consent_service.documents.versions import body_sha256
from consent_service.documents.versions import canonical_body
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import ensure_document
from consent_service.documents.versions import publish
from consent_service.errors import InternalError
from consent_service.infra.pii import Vault
from consent_service.infra.urls import origin_of
from consent_service.integrations.identity import link_identity
from consent_service.integrations.identity import validate_claims
from consent_service.jurisdictions.rules import Regime
from consent_service.models import Identity
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from consent_service.models import VersionStatus
from consent_service.properties.config_version import bump_config_version
from consent_service.properties.platforms import default_platform_signals
from consent_service.properties.platforms import normalised
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import SHARED_TEXT_ORDER

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class DemoDataError(InternalError):
    """The files disagree with what is already in the database. Only ``demo load`` meets it,
    which shows the operator its detail: an InternalError, not a documented problem type."""


@dataclasses.dataclass
class DemoLoad:
    """What loading one property directory did: ``created`` and ``skipped`` name things in
    words for the operator's log."""

    property: Property
    created: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)


def load_property_dir(
    session: Session, directory: Path, *, served_origins: Sequence[str] = ()
) -> DemoLoad:
    """Create what the files describe and the database lacks; never change what is there.

    ``make run`` loads the demo on every start, so whatever the admin edited since (texts,
    origins, purposes, vendors) must survive it: an existing property, purpose or vendor is
    skipped, and says so. ``served_origins`` (where this service's own demo pages are served,
    ``served_origins_of(base_url)``) are added to the property's allowed origins when missing,
    so the demo records choices on whatever host and port it runs: an addition, never a
    removal or a replacement of an origin the admin set.
    """
    config = tomllib.loads((directory / "property.toml").read_text(encoding="utf-8"))
    spec = config["property"]
    prop = session.scalar(sa.select(Property).where(Property.key == spec["key"]))
    if prop is None:
        prop = _create_property(session, spec)
        _set_banner_texts(prop, config.get("banner", {}), directory)
        load = DemoLoad(prop, created=[f"property {prop.key!r}"])
    else:
        load = DemoLoad(
            prop,
            skipped=[
                f"property {prop.key!r} exists: its name, origins, languages, controller and "
                "banner texts stay as they are"
            ],
        )
    _add_served_origins(load, served_origins)
    purposes = _create_purposes(session, load, config.get("purposes", []))
    _create_vendors(session, load, purposes, config.get("vendors", []))
    documents = tomllib.loads((directory / "documents.toml").read_text(encoding="utf-8"))
    for document_spec in documents.get("documents", []):
        _load_document(session, load, directory, document_spec)
    if load.created:
        bump_config_version(session, prop.id)
    session.flush()
    return load


def load_demo_customers(session: Session, vault: Vault, load: DemoLoad, directory: Path) -> None:
    """Create the customers ``customers.toml`` lists (if there is one) through the identity
    domain, so their email and reference are sealed with their own person keys, each with
    the language their emails use. Only while the property has no customer at all: an
    erased demo customer keeps an identity row without PII, and is never brought back."""
    path = directory / "customers.toml"
    if not path.is_file():
        return
    prop = load.property
    specs = tomllib.loads(path.read_text(encoding="utf-8")).get("customers", [])
    has_customers = session.scalar(
        sa.select(sa.func.count()).select_from(Identity).where(Identity.property_id == prop.id)
    )
    if has_customers:
        load.skipped.append(f"demo customers: {prop.key!r} already has customers")
        return
    for spec in specs:
        if spec["locale"] not in prop.locales:
            raise DemoDataError(f"{path}: {spec['locale']!r} is not a language of {prop.key!r}")
        claims = validate_claims(spec["customer_ref"], spec["email"])
        link = link_identity(session, vault, prop.id, claims)
        identity = session.get_one(Identity, link.identity_id)
        identity.locale = spec["locale"]
        load.created.append(f"customer {claims.customer_ref!r} ({spec['locale']})")
    session.flush()


def served_origins_of(base_url: str) -> list[str]:
    """The origins a browser may open this service's pages under: ``base_url``'s, and on a
    loopback host the same port under the other loopback names (``make run`` says
    ``127.0.0.1``; a newcomer types ``localhost``)."""
    origin = origin_of(base_url)
    parts = urllib.parse.urlsplit(origin)
    if parts.hostname not in LOOPBACK_NAMES:
        return [origin]
    port = f":{parts.port}" if parts.port else ""
    return [origin] + [
        f"{parts.scheme}://{name}{port}" for name in LOOPBACK_NAMES if name != parts.hostname
    ]


def _add_served_origins(load: DemoLoad, served_origins: Sequence[str]) -> None:
    prop = load.property
    missing = [o for o in dict.fromkeys(served_origins) if o not in (prop.allowed_origins or [])]
    if missing:
        prop.allowed_origins = [*(prop.allowed_origins or []), *missing]
        load.created.append(
            f"allowed origin{'s' if len(missing) > 1 else ''} {', '.join(missing)} of "
            f"{prop.key!r} (where this service is served)"
        )


def _set_banner_texts(prop: Property, banner: dict[str, Any], directory: Path) -> None:
    """The built-in words (``banner/default_texts.toml``), with any the files give instead:
    ``[banner.texts.<locale>]`` for shared words, ``[banner.regime_texts.<regime>.<locale>]``
    for a regime's."""
    builtin = default_texts()
    locales = list(dict.fromkeys([prop.default_locale, *prop.locales]))
    default = prop.default_locale
    shared = completed(
        banner.get("texts", {}),
        builtin.shared,
        SHARED_TEXT_ORDER,
        locales=locales,
        default_locale=default,
    )
    by_regime = completed_regime_texts(
        banner.get("regime_texts", {}), locales=locales, default_locale=default
    )
    for name, texts, keys in (
        ("texts", shared, SHARED_TEXT_ORDER),
        *((f"regime_texts.{r.value}", by_regime[r.value], REGIME_TEXT_ORDER[r]) for r in Regime),
    ):
        for locale, values in texts.items():
            if missing := sorted(set(keys) - values.keys()):
                raise DemoDataError(
                    f"{directory}: banner {name} for {locale!r} lack {', '.join(missing)}"
                )
    prop.banner_texts = shared
    prop.regime_texts = by_regime


def _create_property(session: Session, spec: dict[str, Any]) -> Property:
    prop = Property(key=spec["key"])
    prop.name = spec["name"]
    prop.allowed_origins = list(spec.get("allowed_origins", []))
    prop.default_locale = spec.get("default_locale", "en")
    prop.locales = list(spec.get("locales", [prop.default_locale]))
    prop.cookie_domain = spec.get("cookie_domain")
    prop.controller = dict(spec.get("controller", {}))
    prop.consent_document_key = spec.get("consent_document", "privacy-policy")
    session.add(prop)
    session.flush()
    return prop


def _create_purposes(
    session: Session, load: DemoLoad, specs: list[dict[str, Any]]
) -> dict[str, Purpose]:
    prop = load.property
    existing = {
        p.key: p for p in session.scalars(sa.select(Purpose).where(Purpose.property_id == prop.id))
    }
    if kept := [spec["key"] for spec in specs if spec["key"] in existing]:
        load.skipped.append(f"purposes {', '.join(kept)} exist: kept as they are")
    position = max((p.position for p in existing.values()), default=-1)
    for spec in specs:
        if spec["key"] in existing:
            continue
        position += 1
        purpose = Purpose(property_id=prop.id, key=spec["key"], position=position)
        purpose.essential = bool(spec.get("essential", False))
        purpose.legal_basis = spec.get("legal_basis", "consent")
        purpose.consent_mode = list(spec.get("consent_mode", []))
        purpose.opt_out_categories = list(spec.get("opt_out_categories", []))
        # Other platforms' signals: the file's, else those its Consent Mode types and opt-out
        # categories imply.
        purpose.platform_signals = (
            normalised(spec["platform_signals"])
            if "platform_signals" in spec
            else default_platform_signals(purpose.consent_mode, purpose.opt_out_categories)
        )
        purpose.texts = dict(spec.get("texts", {}))
        session.add(purpose)
        existing[purpose.key] = purpose
        load.created.append(f"purpose {purpose.key!r}")
    session.flush()
    return existing


def _create_vendors(
    session: Session, load: DemoLoad, purposes: dict[str, Purpose], specs: list[dict[str, Any]]
) -> None:
    prop = load.property
    existing = set(session.scalars(sa.select(Vendor.key).where(Vendor.property_id == prop.id)))
    if kept := [spec["key"] for spec in specs if spec["key"] in existing]:
        load.skipped.append(f"vendors {', '.join(kept)} exist: kept as they are")
    for spec in specs:
        if spec["key"] in existing:
            continue
        vendor = Vendor(property_id=prop.id, key=spec["key"])
        vendor.name = spec["name"]
        vendor.country = spec.get("country")
        vendor.privacy_policy_url = spec.get("privacy_policy_url")
        vendor.cookies = [dict(c) for c in spec.get("cookies", [])]
        vendor.purposes = [purposes[key] for key in spec.get("purposes", []) if key in purposes]
        session.add(vendor)
        load.created.append(f"vendor {vendor.key!r}")
    session.flush()


def _load_document(session: Session, load: DemoLoad, directory: Path, spec: dict[str, Any]) -> None:
    """Publish the files' versions the document lacks; a published version never changes."""
    document = ensure_document(session, load.property, spec["key"], spec["title"])
    published = {
        v.number: v
        for v in session.scalars(
            sa.select(PolicyVersion).where(
                PolicyVersion.document_id == document.id,
                PolicyVersion.status == VersionStatus.PUBLISHED,
            )
        )
    }
    for version_spec in sorted(spec.get("versions", []), key=lambda v: v["number"]):
        number = version_spec["number"]
        body = canonical_body((directory / version_spec["file"]).read_text(encoding="utf-8"))
        if number in published:
            if published[number].sha256 != body_sha256(body):
                raise DemoDataError(
                    f"{document.key} v{number} is published with other content; published "
                    "versions never change, so add a new version to the files instead"
                )
            continue
        if number != len(published) + 1:
            raise DemoDataError(f"{document.key}: versions must be numbered 1, 2, 3 ...")
        effective_at = dt.datetime.fromisoformat(version_spec["effective_at"])
        draft = create_draft(
            session,
            document,
            body,
            material=bool(version_spec.get("material", False)),
            change_summary=dict(version_spec.get("change_summary", {})),
            effective_at=effective_at,
        )
        published[number] = publish(session, draft, now=min(effective_at, dt.datetime.now(dt.UTC)))
        load.created.append(f"{document.key} v{number}")
