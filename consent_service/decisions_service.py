"""Loading the facts ``decide`` needs from the state projection, failing closed on any error."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.decisions import Decision
from consent_service.decisions import PurposeFacts
from consent_service.decisions import RecordedChoice
from consent_service.decisions import decide
from consent_service.errors import ConsentServiceError
from consent_service.errors import UnknownPurpose
from consent_service.jurisdictions import STRICTEST
from consent_service.jurisdictions import jurisdiction_by_code
from consent_service.models import ConsentState
from consent_service.models import PolicyDocument
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.policy_versions import last_material_number
from consent_service.properties import get_property

log = logging.getLogger(__name__)


def decide_for_visitor(
    session: Session,
    property_key: str,
    visitor_id: uuid.UUID,
    purpose_key: str,
    *,
    now: dt.datetime | None = None,
) -> Decision:
    """May this visitor's data be processed for ``purpose_key``? Any failure answers no."""
    try:
        return _decide(session, property_key, visitor_id, purpose_key, now or utcnow())
    except ConsentServiceError as exc:
        return Decision.failed(purpose_key, exc.detail)
    except Exception as exc:  # fail closed: a broken look-up must never read as consent
        log.exception("consent decision failed; answering 'denied'")
        return Decision.failed(purpose_key, f"internal error ({type(exc).__name__})")


def _decide(
    session: Session,
    property_key: str,
    visitor_id: uuid.UUID,
    purpose_key: str,
    now: dt.datetime,
) -> Decision:
    row = session.execute(
        sa.select(Purpose, Property.consent_document_key)
        .join(Property, Property.id == Purpose.property_id)
        .where(Property.key == property_key, Purpose.key == purpose_key)
    ).first()
    if row is None:
        get_property(session, property_key)  # raises UnknownProperty when that is the cause
        raise UnknownPurpose(f"property {property_key!r} offers no purpose {purpose_key!r}")
    purpose, document_key = row
    states = list(
        session.scalars(
            sa.select(ConsentState)
            .join(Subject, Subject.id == ConsentState.subject_id)
            .where(Subject.property_id == purpose.property_id, Subject.visitor_id == visitor_id)
        )
    )
    choice_row = next((s for s in states if s.purpose_id == purpose.id), None)
    latest = max(states, key=lambda s: s.given_at, default=None)
    jurisdiction = jurisdiction_by_code(latest.jurisdiction) if latest else STRICTEST
    document_id = session.scalar(
        sa.select(PolicyDocument.id).where(
            PolicyDocument.property_id == purpose.property_id, PolicyDocument.key == document_key
        )
    )
    material = last_material_number(session, document_id, now=now) if document_id else None
    return decide(
        PurposeFacts(purpose.key, purpose.essential, frozenset(purpose.opt_out_categories)),
        jurisdiction,
        _choice(choice_row),
        last_material_version=material,
        gpc_on_record=bool(latest and latest.gpc),
        now=now,
    )


def _choice(state: ConsentState | None) -> RecordedChoice | None:
    if state is None:
        return None
    return RecordedChoice(
        granted=state.granted,
        receipt_id=str(state.receipt_id),
        policy_version=state.policy_version,
        given_at=state.given_at,
        expires_at=state.expires_at,
        gpc=state.gpc,
    )
