"""Policy documents in versions: draft, edit, publish; published versions never change."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import PublishedVersionImmutable
from consent_service.errors import UnknownPolicy
from consent_service.errors import ValidationFailed
from consent_service.messaging.campaigns import start_policy_campaign
from consent_service.messaging.webhooks import emit_policy_published
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import VersionStatus
from consent_service.models.base import utcnow
from consent_service.properties.config_version import bump_config_version
from consent_service.properties.lookup import get_property


def canonical_body(text: str) -> str:
    """The one byte-exact form of a body: NFC, LF line ends, no trailing blanks, one final LF.

    Editors and operating systems disagree on line ends and Unicode forms; hashing the
    canonical form means the same text always has the same hash, and the served bytes are
    exactly the hashed bytes.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def body_sha256(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def get_document(session: Session, property_key: str, document_key: str) -> PolicyDocument:
    prop = get_property(session, property_key)
    document = session.scalar(
        sa.select(PolicyDocument).where(
            PolicyDocument.property_id == prop.id, PolicyDocument.key == document_key
        )
    )
    if document is None:
        raise UnknownPolicy(f"property {property_key!r} has no policy document {document_key!r}")
    return document


def ensure_document(session: Session, prop: Property, key: str, title: str) -> PolicyDocument:
    document = session.scalar(
        sa.select(PolicyDocument).where(
            PolicyDocument.property_id == prop.id, PolicyDocument.key == key
        )
    )
    if document is None:
        document = PolicyDocument(property_id=prop.id, key=key, title=title)
        session.add(document)
        session.flush()
    return document


def create_draft(
    session: Session,
    document: PolicyDocument,
    body: str,
    *,
    material: bool = False,
    change_summary: dict[str, str] | None = None,
    effective_at: dt.datetime | None = None,
    affected_purposes: Sequence[str] | None = None,
) -> PolicyVersion:
    """A new draft. ``affected_purposes``: the purposes a material change affects (changed or
    newly added), checked by :func:`check_affected_purposes`; None (callers that predate
    naming them, such as the demo's data) stores none, which means every purpose."""
    affected = (
        check_affected_purposes(session, document.property_id, material, affected_purposes)
        if affected_purposes is not None
        else []
    )
    canonical = canonical_body(body)
    version = PolicyVersion(
        document_id=document.id,
        status=VersionStatus.DRAFT,
        body=canonical,
        sha256=body_sha256(canonical),
        material=material,
        affected_purposes=affected,
        change_summary=dict(change_summary or {}),
        effective_at=effective_at,
    )
    session.add(version)
    session.flush()
    return version


def edit_draft(
    session: Session,
    version: PolicyVersion,
    *,
    body: str | None = None,
    material: bool | None = None,
    change_summary: dict[str, str] | None = None,
    effective_at: dt.datetime | None = None,
    affected_purposes: Sequence[str] | None = None,
) -> PolicyVersion:
    """Change a draft. A published version refuses, so what receipts point to stays put.

    Changing ``material`` or ``affected_purposes`` checks the two together (a draft that
    stops being material drops its purposes)."""
    if version.status is VersionStatus.PUBLISHED:
        raise PublishedVersionImmutable(
            f"version {version.number} of {version.document.key!r} is published and cannot "
            "change; create a new draft instead"
        )
    if material is not None or affected_purposes is not None:
        will_be_material = version.material if material is None else material
        if affected_purposes is None:
            affected_purposes = list(version.affected_purposes or []) if will_be_material else []
        document = session.get(PolicyDocument, version.document_id)
        assert document is not None  # a version's document is a foreign key
        version.affected_purposes = check_affected_purposes(
            session, document.property_id, will_be_material, affected_purposes
        )
    if body is not None:
        version.body = canonical_body(body)
        version.sha256 = body_sha256(version.body)
    if material is not None:
        version.material = material
    if change_summary is not None:
        version.change_summary = dict(change_summary)
    if effective_at is not None:
        version.effective_at = effective_at
    session.flush()
    return version


def check_affected_purposes(
    session: Session, property_id: int, material: bool, affected: Sequence[str]
) -> list[str]:
    """The purposes a version's material change affects, in the property's order, or a
    ValidationFailed (422, nothing written): a material change names at least one (only
    choices for those go stale, so naming none would re-ask nobody), each one the property
    offers; a change that is not material names none."""
    offered = list(
        session.scalars(
            sa.select(Purpose.key)
            .where(Purpose.property_id == property_id)
            .order_by(Purpose.position)
        )
    )
    unknown = [
        FieldError(f"/affected_purposes/{i}", f"{key!r} is not a purpose this property offers")
        for i, key in enumerate(affected)
        if key not in offered
    ]
    if unknown:
        raise ValidationFailed(
            f"a material change can only affect the property's purposes ({', '.join(offered)}); "
            + "; ".join(error.detail for error in unknown),
            errors=unknown,
        )
    if material and not affected:
        raise ValidationFailed(
            "a material change must name the purposes it affects (changed or newly added): "
            "only choices for those are asked again",
            errors=[FieldError("/affected_purposes", "name the purposes it affects")],
        )
    if not material and affected:
        raise ValidationFailed(
            "only a material change affects purposes: mark it material, or name none",
            errors=[FieldError("/affected_purposes", "must be empty unless material")],
        )
    return [key for key in offered if key in set(affected)]


def publish(
    session: Session, version: PolicyVersion, *, now: dt.datetime | None = None
) -> PolicyVersion:
    """Give the draft the next number and freeze it. It becomes current at ``effective_at``."""
    if version.status is VersionStatus.PUBLISHED:
        raise PublishedVersionImmutable(f"version {version.number} is already published")
    now = now or utcnow()
    latest = session.scalar(
        sa.select(sa.func.max(PolicyVersion.number)).where(
            PolicyVersion.document_id == version.document_id
        )
    )
    version.number = (latest or 0) + 1
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.effective_at = version.effective_at or now
    document = session.get(PolicyDocument, version.document_id)
    assert document is not None
    bump_config_version(session, document.property_id)
    session.flush()
    emit_policy_published(session, document.property_id, document.key, version, now)
    # A material change of the consent document: notify every customer with an address.
    start_policy_campaign(session, document.property_id, document.key, version, now)
    return version


def _published(document_id: int, now: dt.datetime) -> sa.Select[PolicyVersion]:
    return sa.select(PolicyVersion).where(
        PolicyVersion.document_id == document_id,
        PolicyVersion.status == VersionStatus.PUBLISHED,
        PolicyVersion.effective_at <= now,
    )


def current_version(
    session: Session, document_id: int, *, now: dt.datetime | None = None
) -> PolicyVersion | None:
    """The newest published version already in effect."""
    query = _published(document_id, now or utcnow()).order_by(PolicyVersion.number.desc())
    return session.scalar(query.limit(1))


def get_published(
    session: Session, property_key: str, document_key: str, number: int
) -> PolicyVersion:
    document = get_document(session, property_key, document_key)
    version = session.scalar(
        sa.select(PolicyVersion).where(
            PolicyVersion.document_id == document.id,
            PolicyVersion.number == number,
            PolicyVersion.status == VersionStatus.PUBLISHED,
        )
    )
    if version is None:
        raise UnknownPolicy(
            f"{document_key!r} of {property_key!r} has no published version {number}"
        )
    return version
