"""A person's receipts as proof: the verified history, and downloads anyone can check.

Each receipt is a compact JWS (RFC 7515) signed with Ed25519 (``alg: Ed25519``, RFC 9864;
``EdDSA`` in receipts signed before) by a key whose public half is published at
``/.well-known/jwks.json``. A download carries the JWS
exactly as signed next to its decoded payload, so the person (or a regulator, or a court)
needs nothing from us but the published keys to check it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.consent.verification import verify_receipts
from consent_service.infra.signing import b64url_decode
from consent_service.infra.times import rfc3339_seconds
from consent_service.models import ConsentReceipt
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Subject
from consent_service.self_service.access import Access

BUNDLE_SCHEMA = "consent-service/receipt-bundle/v1"
HOW_TO_VERIFY = (
    "Each 'jws' is a compact JWS (RFC 7515) signed with Ed25519 (alg Ed25519, RFC 9864; "
    "EdDSA in receipts signed before it). "
    "Take the key whose 'kid' matches the JWS header from the JWKS at 'jwks_url', and check "
    "the signature over the ASCII bytes '<header>.<payload>' (the first two dot-separated "
    "parts); 'payload' here is the second part base64url-decoded. Each receipt's 'prev' is "
    "the SHA-256 (hex) of the previous receipt's JWS for the same subject, so a chain with a "
    "receipt removed or altered does not link up. 'policy.sha256' is the SHA-256 of the "
    "exact policy text at 'policy.url'."
)


@dataclasses.dataclass(frozen=True)
class ReceiptLine:
    receipt_id: uuid.UUID
    subject_id: uuid.UUID
    seq: int
    issued_at: dt.datetime
    policy_version: int
    jurisdiction: str
    method: str
    source: str
    gpc: bool
    decisions: dict[str, str]
    problems: tuple[str, ...]  # empty: signature, chain link and row all verify
    document_key: str = ""

    @property
    def verified(self) -> bool:
        return not self.problems


def person_subjects(session: Session, access: Access) -> list[uuid.UUID]:
    """The subjects a preferences session speaks for: every browser (and the account) of a
    customer, or the one browser of an anonymous visitor."""
    query = sa.select(Subject.id).where(Subject.property_id == access.property_id)
    if access.identity_id is not None:
        return list(session.scalars(query.where(Subject.identity_id == access.identity_id)))
    return list(session.scalars(query.where(Subject.visitor_id == access.visitor_id)))


def receipt_history(session: Session, subject_ids: Sequence[uuid.UUID]) -> list[ReceiptLine]:
    """Every receipt of these subjects, oldest first, each verified: signature against the
    published keys, chain link, and the row against its signed payload."""
    problems: dict[uuid.UUID, list[str]] = {}
    for subject_id in subject_ids:
        for found in verify_receipts(session, subject_id=subject_id).breaks:
            problems.setdefault(found.receipt_id, []).append(found.problem)
    rows = session.execute(
        sa.select(ConsentReceipt, PolicyVersion.number, PolicyDocument.key)
        .join(PolicyVersion, PolicyVersion.id == ConsentReceipt.policy_version_id)
        .join(PolicyDocument, PolicyDocument.id == PolicyVersion.document_id)
        .where(ConsentReceipt.subject_id.in_(subject_ids))
        .order_by(ConsentReceipt.issued_at, ConsentReceipt.seq)
    )
    return [
        ReceiptLine(
            receipt_id=receipt.id,
            subject_id=receipt.subject_id,
            seq=receipt.seq,
            issued_at=receipt.issued_at,
            policy_version=int(number or 0),
            jurisdiction=receipt.jurisdiction,
            method=receipt.method,
            source=receipt.source,
            gpc=receipt.gpc,
            decisions=dict(receipt.decisions),
            problems=tuple(problems.get(receipt.id, ())),
            document_key=document_key,
        )
        for receipt, number, document_key in rows
    ]


def receipt_jws(
    session: Session, subject_ids: Sequence[uuid.UUID], receipt_id: uuid.UUID
) -> str | None:
    """One of these subjects' receipts; None for anyone else's (indistinguishable from none)."""
    return session.scalar(
        sa.select(ConsentReceipt.jws).where(
            ConsentReceipt.id == receipt_id, ConsentReceipt.subject_id.in_(subject_ids)
        )
    )


def receipts_jws(session: Session, subject_ids: Sequence[uuid.UUID]) -> list[str]:
    return list(
        session.scalars(
            sa.select(ConsentReceipt.jws)
            .where(ConsentReceipt.subject_id.in_(subject_ids))
            .order_by(ConsentReceipt.issued_at, ConsentReceipt.seq)
        )
    )


def decoded_payload(jws: str) -> Any:
    return json.loads(b64url_decode(jws.split(".")[1]))


def proof_bundle(jws_list: Sequence[str], *, base_url: str, now: dt.datetime) -> dict[str, Any]:
    """The download: each receipt as signed and decoded, and how to check them."""
    return {
        "schema": BUNDLE_SCHEMA,
        "exported_at": rfc3339_seconds(now),
        "jwks_url": f"{base_url}/.well-known/jwks.json",
        "how_to_verify": HOW_TO_VERIFY,
        "receipts": [{"jws": jws, "payload": decoded_payload(jws)} for jws in jws_list],
    }
