"""Consent recorded by a shop backend on a customer's behalf (``consent:write``): a checkout
box ticked, a phone call, a paper form. It becomes a receipt like any other, on the
customer's *account* subject, so the customer's most recent choice anywhere wins.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import SubjectNotAccessible
from consent_service.infra.pii import Vault
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import account_visitor_id
from consent_service.integrations.identity import link_identity
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.models import Subject


def visitor_for(session: Session, vault: Vault, property_id: int, ref: SubjectRef) -> uuid.UUID:
    """The visitor id a backend-recorded consent for ``ref`` is chained under.

    A customer or email gets (and, the first time, creates) the identity and its account
    subject; a visitor is itself; a subject id must be one of this property's subjects.
    """
    if ref.kind == "visitor":
        return uuid.UUID(ref.value)
    if ref.kind == "subject":
        visitor = session.scalar(
            sa.select(Subject.visitor_id).where(
                Subject.id == uuid.UUID(ref.value), Subject.property_id == property_id
            )
        )
        if visitor is None:
            raise SubjectNotAccessible("the subject is not one of this property's")
        return visitor
    claims = Claims(
        customer_ref=ref.value if ref.kind == "customer" else None,
        email=ref.value if ref.kind == "email" else None,
    )
    link = link_identity(session, vault, property_id, claims, account=True)
    return account_visitor_id(link.identity_id)
