"""Loading the facts ``decide`` needs from the state projection, failing closed on any error."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.database import execute_core
from consent_service.decisions import Decision
from consent_service.decisions import RecordedChoice
from consent_service.decisions import decide
from consent_service.errors import ConsentServiceError
from consent_service.errors import UnknownPurpose
from consent_service.jurisdictions import STRICTEST
from consent_service.jurisdictions import jurisdiction_by_code
from consent_service.models import ConsentState
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.properties import consent_context

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
    context = consent_context(session, property_key, now=now)
    purpose = next((p for p in context.purposes if p.key == purpose_key), None)
    if purpose is None:
        raise UnknownPurpose(f"property {property_key!r} offers no purpose {purpose_key!r}")
    states = execute_core(
        session, _states_query(), {"property_id": context.property_id, "visitor_id": visitor_id}
    ).all()
    chosen = next((s for s in states if s.purpose_id == purpose.id), None)
    latest = max(states, key=lambda s: s.given_at, default=None)
    return decide(
        purpose.facts,
        jurisdiction_by_code(latest.jurisdiction, on=now.date()) if latest else STRICTEST,
        _choice(chosen),
        last_material_version=context.last_material,
        gpc_on_record=bool(latest and latest.gpc),
        now=now,
    )


@functools.cache
def _states_query() -> sa.Select[*tuple[Any, ...]]:
    """A visitor's whole current state: one row per purpose they were asked about."""
    return (
        sa.select(
            ConsentState.purpose_id,
            ConsentState.granted,
            ConsentState.receipt_id,
            ConsentState.policy_version,
            ConsentState.jurisdiction,
            ConsentState.gpc,
            ConsentState.given_at,
            ConsentState.expires_at,
        )
        .join(Subject, Subject.id == ConsentState.subject_id)
        .where(
            Subject.property_id == sa.bindparam("property_id"),
            Subject.visitor_id == sa.bindparam("visitor_id"),
        )
    )


def _choice(state: sa.Row[Any] | None) -> RecordedChoice | None:
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
