"""A visitor's decision for the service's own pages, failing closed on any error."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.orm import Session

from consent_service.decisions.lookups import look_up
from consent_service.decisions.lookups import offered_purposes
from consent_service.decisions.rule import Decision
from consent_service.errors import ConsentServiceError
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context

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
    purposes = offered_purposes(context, [purpose_key], "")
    ref = SubjectRef("visitor", str(visitor_id))
    [answer] = look_up(session, context, [ref], purposes, vault=None, now=now)
    return answer.decision
