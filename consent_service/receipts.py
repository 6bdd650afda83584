"""Recording consent as signed, hash-chained receipts, and checking them afterwards."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.database import begin_write
from consent_service.database import dialect_insert
from consent_service.errors import ConcurrentConsentWrite
from consent_service.errors import FieldError
from consent_service.errors import PolicyVersionNotCurrent
from consent_service.errors import UnknownPolicy
from consent_service.errors import UnknownPurpose
from consent_service.errors import ValidationFailed
from consent_service.jurisdictions import Jurisdiction
from consent_service.jurisdictions import jurisdiction_for_region
from consent_service.models import ConsentReceipt
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import SigningKeyRecord
from consent_service.models import Subject
from consent_service.models import VersionStatus
from consent_service.models.base import new_id
from consent_service.models.base import utcnow
from consent_service.policy_versions import current_version
from consent_service.properties import get_property
from consent_service.properties import purposes_of
from consent_service.signing import SigningKey
from consent_service.signing import jws_sha256
from consent_service.state import GRANTED
from consent_service.state import state_rows
from consent_service.state import upsert_state

RECEIPT_SCHEMA = "consent-service/receipt/v1"
DENIED = "denied"


class Method(enum.StrEnum):
    ACCEPT_ALL = "accept_all"
    REJECT_ALL = "reject_all"
    CUSTOM = "custom"
    WITHDRAWAL = "withdrawal"


# What each blanket method means for every non-essential purpose (None: chosen one by one).
_BLANKET: dict[Method, bool | None] = {
    Method.ACCEPT_ALL: True,
    Method.REJECT_ALL: False,
    Method.WITHDRAWAL: False,
    Method.CUSTOM: None,
}


@dataclasses.dataclass(frozen=True)
class ConsentRequest:
    """One act of consent as a surface (widget, API, preferences page) received it."""

    property_key: str
    visitor_id: uuid.UUID
    policy_version: int
    method: Method
    decisions: Mapping[str, bool]
    gpc: bool = False
    source: str = "widget"
    region: str | None = None
    network: str | None = None


@dataclasses.dataclass(frozen=True)
class Issuer:
    """Who signs receipts and where the policies they cite are published."""

    key: SigningKey
    base_url: str


@dataclasses.dataclass(frozen=True)
class RecordedReceipt:
    receipt_id: uuid.UUID
    jws: str
    payload: dict[str, object]


def record_consent(
    session: Session, request: ConsentRequest, *, issuer: Issuer, now: dt.datetime | None = None
) -> RecordedReceipt:
    """Sign a receipt for ``request`` and update the state projection, in the caller's
    transaction (the caller commits). Nothing is written when anything is refused."""
    now = _to_millis(now or utcnow())
    begin_write(session)
    prop = get_property(session, request.property_key)
    purposes = purposes_of(session, prop.id)
    jurisdiction = jurisdiction_for_region(request.region)
    decisions = resolve_decisions(purposes, request, jurisdiction)
    document, version = _current_policy(session, prop, request.policy_version, now)
    subject = _lock_subject(session, prop.id, request.visitor_id)
    previous = session.execute(
        sa.select(ConsentReceipt.seq, ConsentReceipt.jws_sha256)
        .where(ConsentReceipt.subject_id == subject.id)
        .order_by(ConsentReceipt.seq.desc())
        .limit(1)
    ).first()
    receipt_id = new_id()
    seq = previous.seq + 1 if previous else 1
    payload: dict[str, object] = {
        "schema": RECEIPT_SCHEMA,
        "receipt_id": str(receipt_id),
        "property": prop.key,
        "controller": prop.controller.get("name"),
        "subject": str(subject.id),
        "visitor_id": str(request.visitor_id),
        "seq": seq,
        "prev": previous.jws_sha256 if previous else None,
        "policy": {
            "document": document.key,
            "version": version.number,
            "sha256": version.sha256,
            "url": f"{issuer.base_url}/v1/policies/{prop.key}/{document.key}/{version.number}",
        },
        "jurisdiction": jurisdiction.code,
        "region": request.region,
        "decisions": decisions,
        "method": request.method.value,
        "source": request.source,
        "gpc": request.gpc,
        "network": request.network,
        "issued_at": _timestamp(now),
        "expires_at": _timestamp(now + jurisdiction.consent_lifetime),
    }
    _register_key(session, issuer.key)
    jws = issuer.key.sign(payload)
    receipt = ConsentReceipt(
        id=receipt_id,
        property_id=prop.id,
        subject_id=subject.id,
        seq=seq,
        policy_version_id=version.id,
        policy_sha256=version.sha256,
        jurisdiction=jurisdiction.code,
        region=request.region,
        method=request.method.value,
        source=request.source,
        gpc=request.gpc,
        decisions=decisions,
        network=request.network,
        issued_at=now,
        expires_at=now + jurisdiction.consent_lifetime,
        prev_hash=payload["prev"],
        kid=issuer.key.kid,
        jws=jws,
        jws_sha256=jws_sha256(jws),
    )
    session.add(receipt)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConcurrentConsentWrite(
            "another consent for this visitor was recorded at the same moment; retry"
        ) from exc
    assert version.number is not None
    upsert_state(session, state_rows(receipt, version.number, {p.key: p.id for p in purposes}))
    return RecordedReceipt(receipt_id=receipt_id, jws=jws, payload=payload)


def resolve_decisions(
    purposes: list[Purpose], request: ConsentRequest, jurisdiction: Jurisdiction
) -> dict[str, str]:
    """The full snapshot for every offered purpose, or a ValidationFailed naming each bad field.

    Essential purposes are always granted; a blanket method fixes every other purpose and any
    decision sent with it must agree; ``custom`` needs a decision for each. Where the
    jurisdiction honours GPC, the signal denies sale / sharing / targeted-advertising purposes.
    """
    offered = {p.key: p for p in purposes}
    unknown = [key for key in request.decisions if key not in offered]
    if unknown:
        raise UnknownPurpose(
            f"property {request.property_key!r} offers no purpose {unknown[0]!r}",
            errors=[
                FieldError(f"/decisions/{key}", "not a purpose this property offers")
                for key in unknown
            ],
        )
    blanket = _BLANKET[request.method]
    errors: list[FieldError] = []
    snapshot: dict[str, str] = {}
    for key, purpose in offered.items():
        given = request.decisions.get(key)
        if purpose.essential:
            if given is False:
                errors.append(
                    FieldError(f"/decisions/{key}", "an essential purpose cannot be refused")
                )
            snapshot[key] = GRANTED
            continue
        if blanket is None and given is None:
            errors.append(
                FieldError(f"/decisions/{key}", "a decision is required for every offered purpose")
            )
            continue
        if blanket is not None and given is not None and given != blanket:
            errors.append(
                FieldError(f"/decisions/{key}", f"contradicts method {request.method.value!r}")
            )
            continue
        granted = blanket if blanket is not None else bool(given)
        if granted and request.gpc and jurisdiction.honours_gpc and purpose.opt_out_categories:
            granted = False
        snapshot[key] = GRANTED if granted else DENIED
    if errors:
        raise ValidationFailed(
            f"{len(errors)} decision(s) are not valid for method {request.method.value!r}",
            errors=errors,
        )
    return snapshot


def _current_policy(
    session: Session, prop: Property, number: int, now: dt.datetime
) -> tuple[PolicyDocument, PolicyVersion]:
    document = session.scalar(
        sa.select(PolicyDocument).where(
            PolicyDocument.property_id == prop.id, PolicyDocument.key == prop.consent_document_key
        )
    )
    current = current_version(session, document.id, now=now) if document else None
    if document is None or current is None:
        raise PolicyVersionNotCurrent(
            f"property {prop.key!r} has no published {prop.consent_document_key!r} in effect yet"
        )
    if current.number == number:
        return document, current
    exists = session.scalar(
        sa.select(sa.func.count()).where(
            PolicyVersion.document_id == document.id,
            PolicyVersion.number == number,
            PolicyVersion.status == VersionStatus.PUBLISHED,
        )
    )
    if not exists:
        raise UnknownPolicy(
            f"{prop.consent_document_key!r} has no published version {number}",
            errors=[FieldError("/policy_version", f"no published version {number}")],
        )
    raise PolicyVersionNotCurrent(
        f"version {number} of {prop.consent_document_key!r} is not current; "
        f"the current version is {current.number}: show it and ask again",
        errors=[FieldError("/policy_version", f"current version is {current.number}")],
    )


def _lock_subject(session: Session, property_id: int, visitor_id: uuid.UUID) -> Subject:
    """Find or create the visitor's subject and lock it, serialising writes to its chain."""
    table = Subject.__table__
    session.execute(
        dialect_insert(session, table)  # type: ignore[arg-type]
        .values(id=new_id(), property_id=property_id, visitor_id=visitor_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["property_id", "visitor_id"])
    )
    subject = session.scalar(
        sa.select(Subject)
        .where(Subject.property_id == property_id, Subject.visitor_id == visitor_id)
        .with_for_update()
    )
    assert subject is not None
    return subject


def _register_key(session: Session, key: SigningKey) -> None:
    """Publish the signing key's public half for good, before its first signature lands."""
    if session.get(SigningKeyRecord, key.kid) is None:
        session.execute(
            dialect_insert(session, SigningKeyRecord.__table__)  # type: ignore[arg-type]
            .values(kid=key.kid, public_x=key.public_x, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["kid"])
        )


def _to_millis(moment: dt.datetime) -> dt.datetime:
    """Receipts state times to the millisecond; the row must say exactly what was signed."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
