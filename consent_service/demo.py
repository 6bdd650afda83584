"""Loading a property (purposes, vendors, policy documents) from the reviewed files in
``policies/demo/<property>/``. Idempotent: running it twice changes nothing."""

from __future__ import annotations

import datetime as dt
import tomllib
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
from consent_service.jurisdictions.rules import Regime
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from consent_service.models import VersionStatus
from consent_service.properties.config_version import bump_config_version
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import SHARED_TEXT_ORDER


class DemoDataError(InternalError):
    """The files disagree with what is already in the database. Only ``demo load`` meets it,
    which shows the operator its detail: an InternalError, not a documented problem type."""


def load_property_dir(session: Session, directory: Path) -> Property:
    config = tomllib.loads((directory / "property.toml").read_text(encoding="utf-8"))
    prop = _upsert_property(session, config["property"])
    _set_banner_texts(prop, config.get("banner", {}), directory)
    purposes = _upsert_purposes(session, prop, config.get("purposes", []))
    _upsert_vendors(session, prop, purposes, config.get("vendors", []))
    documents = tomllib.loads((directory / "documents.toml").read_text(encoding="utf-8"))
    for spec in documents.get("documents", []):
        _load_document(session, prop, directory, spec)
    bump_config_version(session, prop.id)
    session.flush()
    return prop


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


def _upsert_property(session: Session, spec: dict[str, Any]) -> Property:
    prop = session.scalar(sa.select(Property).where(Property.key == spec["key"]))
    if prop is None:
        prop = Property(key=spec["key"])
        session.add(prop)
    prop.name = spec["name"]
    prop.allowed_origins = list(spec.get("allowed_origins", []))
    prop.default_locale = spec.get("default_locale", "en")
    prop.locales = list(spec.get("locales", [prop.default_locale]))
    prop.cookie_domain = spec.get("cookie_domain")
    prop.controller = dict(spec.get("controller", {}))
    prop.consent_document_key = spec.get("consent_document", "privacy-policy")
    session.flush()
    return prop


def _upsert_purposes(
    session: Session, prop: Property, specs: list[dict[str, Any]]
) -> dict[str, Purpose]:
    existing = {
        p.key: p for p in session.scalars(sa.select(Purpose).where(Purpose.property_id == prop.id))
    }
    for position, spec in enumerate(specs):
        purpose = existing.get(spec["key"])
        if purpose is None:
            purpose = Purpose(property_id=prop.id, key=spec["key"])
            session.add(purpose)
            existing[purpose.key] = purpose
        purpose.position = position
        purpose.essential = bool(spec.get("essential", False))
        purpose.legal_basis = spec.get("legal_basis", "consent")
        purpose.consent_mode = list(spec.get("consent_mode", []))
        purpose.opt_out_categories = list(spec.get("opt_out_categories", []))
        purpose.texts = dict(spec.get("texts", {}))
    session.flush()
    return existing


def _upsert_vendors(
    session: Session, prop: Property, purposes: dict[str, Purpose], specs: list[dict[str, Any]]
) -> None:
    existing = {
        v.key: v for v in session.scalars(sa.select(Vendor).where(Vendor.property_id == prop.id))
    }
    for spec in specs:
        vendor = existing.get(spec["key"])
        if vendor is None:
            vendor = Vendor(property_id=prop.id, key=spec["key"])
            session.add(vendor)
        vendor.name = spec["name"]
        vendor.country = spec.get("country")
        vendor.privacy_policy_url = spec.get("privacy_policy_url")
        vendor.cookies = [dict(c) for c in spec.get("cookies", [])]
        vendor.purposes = [purposes[key] for key in spec.get("purposes", [])]
    session.flush()


def _load_document(session: Session, prop: Property, directory: Path, spec: dict[str, Any]) -> None:
    document = ensure_document(session, prop, spec["key"], spec["title"])
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
