"""A history of every kind of data the retention job looks after, dated around ``now``."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Issuer
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import record_consent
from consent_service.models import AuditEntry
from consent_service.models import DecisionLogEntry
from consent_service.models import ErasureRequest
from consent_service.models import Identity
from consent_service.models import IdentityTokenUse
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import ScanReport
from consent_service.models import Subject
from consent_service.models import WebSession

DAY = dt.timedelta(days=1)
YEAR = dt.timedelta(days=365)
OFFERED = ("preferences", "analytics", "marketing", "advertising")


def policy_in_effect_since(session: Session) -> dt.datetime:
    """When the demo shop's privacy policy version 2 took effect (receipts start there)."""
    effective = session.scalar(
        sa.select(sa.func.max(PolicyVersion.published_at)).where(PolicyVersion.number == 2)
    )
    assert effective is not None
    return effective + DAY


def demo_property(session: Session) -> Property:
    found = session.scalar(sa.select(Property).where(Property.key == "demo-shop"))
    assert found is not None
    return found


def chain(
    session: Session,
    issuer: Issuer,
    *,
    region: str,
    at: list[dt.datetime],
    granted: bool = True,
    gpc: bool = False,
) -> uuid.UUID:
    """One visitor's receipts at the times ``at`` (all granted or all refused); the subject."""
    visitor = uuid.uuid4()
    for moment in at:
        request = ConsentRequest(
            property_key="demo-shop",
            visitor_id=visitor,
            policy_version=2,
            method=Method.CUSTOM,
            decisions={key: granted for key in OFFERED},
            gpc=gpc,
            region=region,
        )
        record_consent(session, request, issuer=issuer, now=moment)
    session.flush()
    subject = session.scalar(sa.select(Subject.id).where(Subject.visitor_id == visitor))
    assert subject is not None
    return subject


def decision_log(session: Session, property_id: int, at: dt.datetime) -> uuid.UUID:
    entry = DecisionLogEntry(
        property_id=property_id,
        requested_at=at,
        purposes=["marketing"],
        item_count=1,
        allowed_count=0,
        answers=[[f"visitor:{uuid.uuid4()}", "marketing", False, "no_record"]],
    )
    session.add(entry)
    session.flush()
    return entry.id


def outbox(session: Session, property_id: int, *, status: str, at: dt.datetime) -> uuid.UUID:
    message = OutboxMessage(
        property_id=property_id,
        channel="webhook",
        event_type="consent.changed",
        payload='{"subject":"customer:c-1"}',
        status=status,
        next_attempt_at=at,
        created_at=at,
        delivered_at=at if status == "delivered" else None,
    )
    session.add(message)
    session.flush()
    return message.id


def identity(session: Session, property_id: int) -> uuid.UUID:
    person = Identity(property_id=property_id, customer_ref=f"c-{uuid.uuid4()}")
    session.add(person)
    session.flush()
    return person.id


def magic_link(session: Session, property_id: int, expires_at: dt.datetime) -> uuid.UUID:
    link = MagicLink(
        property_id=property_id,
        identity_id=identity(session, property_id),
        created_at=expires_at - dt.timedelta(minutes=15),
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link.id


def web_session(session: Session, ends_at: dt.datetime) -> str:
    token = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    session.add(
        WebSession(
            id=token,
            kind="preferences",
            visitor_id=uuid.uuid4(),
            created_at=ends_at - dt.timedelta(hours=1),
            last_seen_at=ends_at - dt.timedelta(minutes=30),
            idle_expires_at=ends_at,
            expires_at=ends_at + dt.timedelta(hours=1),
        )
    )
    session.flush()
    return token


def token_use(session: Session, property_id: int, expires_at: dt.datetime) -> str:
    nonce = uuid.uuid4().hex
    session.add(IdentityTokenUse(property_id=property_id, nonce=nonce, expires_at=expires_at))
    session.flush()
    return nonce


def erasure_record(session: Session, property_id: int, completed_at: dt.datetime) -> uuid.UUID:
    request = ErasureRequest(
        property_id=property_id,
        identity_id=identity(session, property_id),
        jurisdiction="FR",
        law="GDPR Art. 12(3), Art. 17",
        requested_at=completed_at,
        due_at=completed_at + 30 * DAY,
        completed_at=completed_at,
        source="preferences-page",
    )
    session.add(request)
    session.flush()
    return request.id


def audit_entry(session: Session, at: dt.datetime) -> uuid.UUID:
    entry = AuditEntry(at=at, actor="admin@example.com", action="test", target_type="test")
    session.add(entry)
    session.flush()
    return entry.id


def scan_report(
    session: Session, property_id: int, *, started_at: dt.datetime, finished: bool = True
) -> uuid.UUID:
    """A scan's row (finished an hour after it started, or still running)."""
    row = ScanReport(
        property_id=property_id,
        config_version=1,
        trigger="schedule",
        status="completed" if finished else "running",
        started_at=started_at,
        finished_at=started_at + dt.timedelta(hours=1) if finished else None,
    )
    session.add(row)
    session.flush()
    return row.id
