"""Erasure on request (GDPR Art. 17, CCPA § 1798.105 and their kin), done at once.

In one transaction:

1. every consent still granted is withdrawn by a signed ``withdrawal`` receipt (source
   ``erasure``), so every look-up answers "no" from then on and the chain proves when;
2. the PII is crypto-shredded: the customer's encrypted email and its blind index, the
   customer reference and language are wiped (backups age out on their own schedule), pending
   emails are cancelled, sign-in links and list choices deleted;
3. the receipts stay, pseudonymised (random subject ids, truncated network, no email or
   customer reference), as the proof of what was consented the law lets us keep;
4. ``subject.erased`` goes to the shop's webhooks with the customer reference it needs to
   erase its own copy, and the deadline the law gives it;
5. the decision log's entries naming the person (by any label a look-up used: each browser's
   visitor id, each subject id, the customer reference, the email's blind index) are
   pseudonymised, and the outbox payloads naming them redacted: settled ones now, pending ones
   (``subject.erased`` among them) as soon as they are delivered or dead;
6. the request and its completion are written to the audit log and to ``erasure_requests``,
   which also makes a second request find the first instead of erasing twice; the request
   keeps a signed statement of what was erased (``erasure_proof``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tomllib
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Issuer
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import record_consent
from consent_service.decisions.access_log import pseudonymise_entries
from consent_service.decisions.lookups import log_label
from consent_service.infra.audit import Actor
from consent_service.infra.audit import record_as
from consent_service.infra.database import begin_write
from consent_service.infra.database import execute_core
from consent_service.infra.pii import Vault
from consent_service.infra.sessions import revoke_preferences_sessions
from consent_service.infra.times import add_months
from consent_service.infra.times import rfc3339_millis
from consent_service.integrations.identity import customer_ref_of
from consent_service.integrations.identity import forget_identity
from consent_service.messaging.campaigns import CHANNEL as EMAIL_CHANNEL
from consent_service.messaging.outbox import redact_payloads
from consent_service.messaging.webhooks import EventType
from consent_service.messaging.webhooks import emit_event
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import EmailSubscription
from consent_service.models import ErasureRequest
from consent_service.models import Identity
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.models import WebSession
from consent_service.models.base import new_id
from consent_service.models.base import table_of
from consent_service.properties.lookup import consent_context
from consent_service.self_service.access import Access
from consent_service.self_service.erasure_proof import Counts
from consent_service.self_service.erasure_proof import sign_statement
from consent_service.self_service.proof import person_subjects
from policies import ERASURE_DEADLINES

SOURCE = "erasure"
ACTOR = "self-service"


@dataclasses.dataclass(frozen=True)
class Deadline:
    law: str
    extension: str
    days: int | None = None
    months: int | None = None
    # Where the person is is unknown, so the shortest deadline in the table applies: each
    # surface says so in its own language (the law is the shortest one's citation).
    location_unknown: bool = False

    def due(self, requested_at: dt.datetime) -> dt.datetime:
        if self.months is not None:
            return add_months(requested_at, self.months)
        return requested_at + dt.timedelta(days=self.days or 0)


@dataclasses.dataclass(frozen=True)
class Erasure:
    request: ErasureRequest
    # False: the person had already been erased by an earlier request (nothing was done now).
    done_now: bool
    withdrawn_receipts: int = 0


@functools.cache
def _deadlines() -> dict[str, Deadline]:
    with ERASURE_DEADLINES.open("rb") as file:
        data = tomllib.load(file)
    table: dict[str, Deadline] = {}
    for entry in data["deadline"]:
        deadline = Deadline(
            law=entry["law"],
            extension=entry["extension"],
            days=entry.get("days"),
            months=entry.get("months"),
        )
        for code in entry["codes"]:
            table[code] = deadline
    return table


def deadline_for(jurisdiction_code: str) -> Deadline:
    """The law's deadline where the person's consent was last given. Unknown: the shortest
    in the table (strictest, as everywhere else)."""
    table = _deadlines()
    if jurisdiction_code in table:
        return table[jurisdiction_code]
    if jurisdiction_code == "unknown":
        start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        shortest = min(table.values(), key=lambda d: d.due(start))
        return dataclasses.replace(shortest, extension="none", location_unknown=True)
    return table["*"]


def list_requests(session: Session, *, limit: int = 500) -> Sequence[ErasureRequest]:
    """The newest erasure requests first (pseudonymous ids only: nothing to identify)."""
    return session.scalars(
        sa.select(ErasureRequest).order_by(ErasureRequest.requested_at.desc()).limit(limit)
    ).all()


def find_request(session: Session, access: Access) -> ErasureRequest | None:
    if access.identity_id is not None:
        where = ErasureRequest.identity_id == access.identity_id
    else:
        subject_ids = person_subjects(session, access)
        if not subject_ids:
            return None
        where = ErasureRequest.subject_id == subject_ids[0]
    return session.scalar(sa.select(ErasureRequest).where(where))


def erase(
    session: Session,
    access: Access,
    *,
    issuer: Issuer,
    vault: Vault,
    network: str | None,
    request_id: str | None,
    now: dt.datetime,
) -> Erasure:
    """Erase the person ``access`` names, in the caller's transaction (see the module)."""
    begin_write(session)
    earlier = find_request(session, access)
    if earlier is not None:
        return Erasure(earlier, done_now=False)
    prop = session.get(Property, access.property_id)
    assert prop is not None
    subject_ids = _subjects(session, access, now)
    jurisdiction = _latest_jurisdiction(session, subject_ids)
    deadline = deadline_for(jurisdiction)
    request = ErasureRequest(
        id=new_id(),
        property_id=prop.id,
        identity_id=access.identity_id,
        subject_id=None if access.identity_id is not None else subject_ids[0],
        jurisdiction=jurisdiction,
        law=deadline.law,
        requested_at=now,
        due_at=deadline.due(now),
        source="preferences-page",
    )
    actor = Actor(ACTOR, network=network, request_id=request_id)
    target_type = "identity" if access.identity_id is not None else "subject"
    target_id = str(access.identity_id or subject_ids[0])
    record_as(
        session,
        actor,
        "subject.erasure_requested",
        target_type=target_type,
        target_id=target_id,
        before=None,
        after={"erasure_request": str(request.id), "due_at": request.due_at.isoformat()},
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:  # the same person, at the same moment, from another tab
        found = find_request(session, access)
        assert found is not None
        return Erasure(found, done_now=False)
    withdrawn = _withdraw_everything(session, prop.key, subject_ids, issuer, now)
    visitor_ids = list(
        session.scalars(sa.select(Subject.visitor_id).where(Subject.id.in_(subject_ids)))
    )
    names = _names(session, vault, access, subject_ids, visitor_ids)
    shredded = _shred(session, vault, access, subject_ids, now)
    customer_ref = shredded.customer_ref
    request.completed_at = now
    emit_event(
        session,
        prop.id,
        EventType.SUBJECT_ERASED,
        {
            "property": prop.key,
            "erasure_request_id": str(request.id),
            "customer_ref": customer_ref,
            "subject_ids": sorted(str(s) for s in subject_ids),
            "visitor_ids": sorted(str(v) for v in visitor_ids),
            "jurisdiction": jurisdiction,
            "requested_at": rfc3339_millis(now),
            "due_at": rfc3339_millis(request.due_at),
        },
        now,
    )
    logged = pseudonymise_entries(session, property_id=prop.id, labels=names.labels, now=now)
    redaction = redact_payloads(session, property_id=prop.id, values=names.values, now=now)
    counts = dataclasses.replace(
        shredded.counts,
        receipts_withdrawn=withdrawn,
        decision_log_entries_pseudonymised=logged,
        outbox_payloads_redacted=redaction.redacted,
        outbox_payloads_redacted_once_delivered=redaction.on_settle,
    )
    issuer.ensure_registered(session)
    sign_statement(
        request, property_key=prop.key, subject_ids=subject_ids, counts=counts, issuer=issuer
    )
    record_as(
        session,
        actor,
        "subject.erased",
        target_type=target_type,
        target_id=target_id,
        before=None,
        after={
            "erasure_request": str(request.id),
            "subjects": len(subject_ids),
            "withdrawal_receipts": withdrawn,
            "decision_log_entries_pseudonymised": logged,
            "outbox_payloads_redacted": redaction.redacted + redaction.on_settle,
        },
    )
    session.flush()
    return Erasure(request, done_now=True, withdrawn_receipts=withdrawn)


def _subjects(session: Session, access: Access, now: dt.datetime) -> list[uuid.UUID]:
    found = person_subjects(session, access)
    if found or access.identity_id is not None:
        return found
    # A visitor who never chose: the request still needs its subject (and the widget must
    # learn that this visitor id is erased).
    subject_id = new_id()
    session.add(
        Subject(
            id=subject_id,
            property_id=access.property_id,
            visitor_id=access.visitor_id,
            created_at=now,
        )
    )
    session.flush()
    return [subject_id]


def _latest_jurisdiction(session: Session, subject_ids: Sequence[uuid.UUID]) -> str:
    code = session.scalar(
        sa.select(ConsentReceipt.jurisdiction)
        .where(ConsentReceipt.subject_id.in_(subject_ids))
        .order_by(ConsentReceipt.issued_at.desc())
        .limit(1)
    )
    return code or "unknown"


def _withdraw_everything(
    session: Session,
    property_key: str,
    subject_ids: Sequence[uuid.UUID],
    issuer: Issuer,
    now: dt.datetime,
) -> int:
    """A withdrawal receipt on each subject that still grants something (essential purposes
    aside): afterwards no look-up can answer "yes" from a consent of this person's."""
    context = consent_context(session, property_key, now=now)
    if context.current is None or not subject_ids:
        return 0
    optional = [p.id for p in context.purposes if not p.essential]
    granting = session.execute(
        sa.select(Subject.id, Subject.visitor_id)
        .where(
            Subject.id.in_(subject_ids),
            sa.select(ConsentState.subject_id)
            .where(
                ConsentState.subject_id == Subject.id,
                ConsentState.granted.is_(True),
                ConsentState.purpose_id.in_(optional),
            )
            .exists(),
        )
        .order_by(Subject.created_at)
    ).all()
    for subject_id, visitor_id in granting:
        region = session.scalar(
            sa.select(ConsentReceipt.region)
            .where(ConsentReceipt.subject_id == subject_id)
            .order_by(ConsentReceipt.seq.desc())
            .limit(1)
        )
        record_consent(
            session,
            ConsentRequest(
                property_key=property_key,
                visitor_id=visitor_id,
                policy_version=context.current.number,
                method=Method.WITHDRAWAL,
                decisions={},
                source=SOURCE,
                region=region,
            ),
            issuer=issuer,
            now=now,
        )
    return len(granting)


@dataclasses.dataclass(frozen=True)
class _Names:
    """How the person is named outside the rows erasure wipes: the decision log's labels and
    the values outbox payloads carry (taken before the identity is wiped)."""

    labels: frozenset[str]
    values: frozenset[str]


def _names(
    session: Session,
    vault: Vault,
    access: Access,
    subject_ids: Sequence[uuid.UUID],
    visitor_ids: Sequence[uuid.UUID],
) -> _Names:
    labels = {log_label("subject", str(s)) for s in subject_ids}
    labels |= {log_label("visitor", str(v)) for v in visitor_ids}
    values = {str(s) for s in subject_ids} | {str(v) for v in visitor_ids}
    if access.identity_id is not None:
        labels.add(log_label("identity", str(access.identity_id)))
        identity = session.get(Identity, access.identity_id)
        assert identity is not None
        customer_ref = customer_ref_of(vault, identity)
        if customer_ref:
            index = vault.customer_index(identity.property_id, customer_ref)
            labels.add(log_label("customer", index))
            # Entries logged before customers were named by blind index name them plainly.
            labels.add(f"customer:{customer_ref}")
            values.add(customer_ref)
        if identity.email_index:
            labels.add(log_label("email", identity.email_index))
    return _Names(frozenset(labels), frozenset(values))


@dataclasses.dataclass(frozen=True)
class _Shredded:
    customer_ref: str | None
    counts: Counts


def _shred(
    session: Session,
    vault: Vault,
    access: Access,
    subject_ids: Sequence[uuid.UUID],
    now: dt.datetime,
) -> _Shredded:
    """Wipe what identifies the person; returns the customer reference it held (for the
    webhook, which the shop needs to find its own copy) and what was wiped, counted."""
    execute_core(
        session,
        sa.update(table_of(Subject))
        .where(table_of(Subject).c.id.in_(subject_ids))
        .values(erased_at=now),
    )
    # Every preferences session of the person ends: the customer's and their browsers'.
    visitor_ids = list(
        session.scalars(sa.select(Subject.visitor_id).where(Subject.id.in_(subject_ids)))
    )
    live = [WebSession.identity_id == access.identity_id] if access.identity_id else []
    if visitor_ids:
        live.append(
            sa.and_(
                WebSession.property_id == access.property_id,
                WebSession.visitor_id.in_(visitor_ids),
            )
        )
    sessions = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(WebSession)
            .where(sa.or_(*live), WebSession.revoked_at.is_(None))
        )
        if live
        else 0
    )
    revoke_preferences_sessions(
        session,
        now,
        identity_id=access.identity_id,
        property_id=access.property_id,
        visitor_ids=visitor_ids,
    )
    if access.identity_id is None:
        return _Shredded(None, Counts(sessions_ended=sessions or 0))
    identity = session.get(Identity, access.identity_id)
    assert identity is not None
    forgotten = forget_identity(vault, identity)  # the person's key shredded
    identity.locale = None
    identity.erased_at = now
    identity.updated_at = now
    outbox = table_of(OutboxMessage)
    cancelled = execute_core(
        session,
        sa.update(outbox)
        .where(
            outbox.c.identity_id == access.identity_id,
            outbox.c.channel == EMAIL_CHANNEL,
            outbox.c.status == OutboxStatus.PENDING.value,
        )
        .values(
            status=OutboxStatus.DEAD.value,
            last_error="the customer was erased",
            locked_until=None,
        ),
    ).rowcount
    links = execute_core(
        session, sa.delete(table_of(MagicLink)).where(MagicLink.identity_id == access.identity_id)
    ).rowcount
    lists = execute_core(
        session,
        sa.delete(table_of(EmailSubscription)).where(
            EmailSubscription.identity_id == access.identity_id
        ),
    ).rowcount
    session.flush()
    return _Shredded(
        forgotten.customer_ref,
        Counts(
            identity_pii_wiped=1,
            person_keys_shredded=forgotten.keys_shredded,
            emails_cancelled=cancelled,
            sessions_ended=sessions or 0,
            sign_in_links_deleted=links,
            email_subscriptions_deleted=lists,
        ),
    )
