"""Everything the service holds about one person, as machine-readable JSON (GDPR Art. 15 and
20, CCPA § 1798.110): the customer record (email decrypted), their browsers, current choices,
every receipt as signed, email list choices, the emails sent to them, their sign-in links
(never the tokens) and erasure requests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.decisions.lookups import look_up
from consent_service.infra.pii import UndecryptableData
from consent_service.infra.pii import Vault
from consent_service.infra.times import rfc3339_seconds
from consent_service.integrations.identity import account_visitor_id
from consent_service.integrations.identity import customer_ref_of
from consent_service.integrations.identity import email_of
from consent_service.messaging.campaigns import CHANNEL as EMAIL_CHANNEL
from consent_service.models import EmailSubscription
from consent_service.models import ErasureRequest
from consent_service.models import Identity
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.properties.lookup import consent_context
from consent_service.self_service.access import Access
from consent_service.self_service.choices import person_ref
from consent_service.self_service.proof import proof_bundle
from consent_service.self_service.proof import receipts_jws

EXPORT_SCHEMA = "consent-service/subject-export/v1"


def export_person(
    session: Session, vault: Vault, access: Access, *, base_url: str, now: dt.datetime
) -> dict[str, Any]:
    prop = session.get(Property, access.property_id)
    assert prop is not None
    subjects = list(
        session.scalars(
            sa.select(Subject)
            .where(
                Subject.property_id == prop.id,
                Subject.identity_id == access.identity_id
                if access.identity_id is not None
                else Subject.visitor_id == access.visitor_id,
            )
            .order_by(Subject.created_at)
        )
    )
    subject_ids = [s.id for s in subjects]
    context = consent_context(session, prop.key, now=now)
    answers = look_up(session, context, [person_ref(access)], context.purposes, vault=None, now=now)
    proof = proof_bundle(receipts_jws(session, subject_ids), base_url=base_url, now=now)
    account = account_visitor_id(access.identity_id) if access.identity_id else None
    return {
        "schema": EXPORT_SCHEMA,
        "exported_at": _time(now),
        "controller": {"property": prop.key, "name": prop.name, **(prop.controller or {})},
        "customer": _customer(session, vault, access.identity_id),
        "browsers": [
            {
                "subject_id": str(s.id),
                "visitor_id": str(s.visitor_id),
                "kind": "account" if s.visitor_id == account else "browser",
                "created_at": _time(s.created_at),
                "erased_at": _time(s.erased_at),
            }
            for s in subjects
        ],
        "current_choices": [
            {
                "purpose": a.decision.purpose,
                "allowed": a.decision.allowed,
                "reason": a.decision.reason.value,
                "receipt_id": a.decision.receipt_id,
                "expires_at": _time(a.decision.expires_at),
            }
            for a in answers
        ],
        "receipts": proof["receipts"],
        "receipts_jwks_url": proof["jwks_url"],
        "how_to_verify_receipts": proof["how_to_verify"],
        **_customer_records(session, access.identity_id),
        "erasure_requests": [
            {
                "id": str(r.id),
                "requested_at": _time(r.requested_at),
                "due_at": _time(r.due_at),
                "completed_at": _time(r.completed_at),
                "law": r.law,
            }
            for r in session.scalars(
                sa.select(ErasureRequest).where(
                    sa.or_(
                        ErasureRequest.identity_id == access.identity_id,
                        ErasureRequest.subject_id.in_(subject_ids),
                    )
                )
            )
        ],
    }


def _customer(
    session: Session, vault: Vault, identity_id: uuid.UUID | None
) -> dict[str, Any] | None:
    if identity_id is None:
        return None
    identity = session.get(Identity, identity_id)
    assert identity is not None
    keys = vault.people.keys_of([identity.id])
    email: str | None = None
    customer_ref: str | None = None
    try:
        email = email_of(vault, identity, keys=keys)
        customer_ref = customer_ref_of(vault, identity, keys=keys)
    except UndecryptableData:
        email = "(held encrypted under a key this server lacks)"
    return {
        "id": str(identity.id),
        "customer_ref": customer_ref,
        "email": email,
        "locale": identity.locale,
        "created_at": _time(identity.created_at),
        "erased_at": _time(identity.erased_at),
    }


def _customer_records(session: Session, identity_id: uuid.UUID | None) -> dict[str, Any]:
    if identity_id is None:
        return {"email_lists": [], "emails": [], "sign_in_links": []}
    lists = session.scalars(
        sa.select(EmailSubscription).where(EmailSubscription.identity_id == identity_id)
    )
    emails = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.identity_id == identity_id, OutboxMessage.channel == EMAIL_CHANNEL)
        .order_by(OutboxMessage.created_at)
    )
    links = session.scalars(
        sa.select(MagicLink)
        .where(MagicLink.identity_id == identity_id)
        .order_by(MagicLink.created_at)
    )
    return {
        "email_lists": [
            {
                "list": s.list_key,
                "subscribed": s.subscribed,
                "source": s.source,
                "updated_at": _time(s.updated_at),
            }
            for s in lists
        ],
        "emails": [
            {
                "kind": m.event_type,
                "status": m.status,
                "queued_at": _time(m.created_at),
                "sent_at": _time(m.delivered_at),
            }
            for m in emails
        ],
        "sign_in_links": [
            {
                "created_at": _time(link.created_at),
                "expires_at": _time(link.expires_at),
                "used_at": _time(link.used_at),
            }
            for link in links
        ],
    }


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else rfc3339_seconds(moment)
