"""Erasure reaches every table: a person's identifiers, searched for in every text, JSON and
binary column of every table (from the metadata), before and after their erasure.

After it, only the places listed in ALLOWED hold them, each for the reason given there; the
receipts still verify. The person is a customer with two browsers, looked up by every kind of
reference, whose consents were delivered to a real webhook receiver over HTTP.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid

import pytest
import sqlalchemy as sa

from consent_service.consent.verification import verify_receipts
from consent_service.decisions.access_log import ERASED_LABEL
from consent_service.infra.signing import b64url_decode
from consent_service.messaging.outbox import REDACTED
from consent_service.messaging.worker import build_worker
from consent_service.models import DecisionLogEntry
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models import Subject
from consent_service.models.base import Base
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from tests.integration.preferences_support import erase_now
from tests.webhook_receiver import register

# Where an erased person's identifiers may stay, and why.
ALLOWED_AFTER_DELIVERY = {
    # The signed receipts (their JWS carries the pseudonymous subject and visitor ids): the
    # proof of what was consented and withdrawn, which chains and signatures make unalterable.
    ("consent_receipts", "jws", "subject_id"),
    ("consent_receipts", "jws", "visitor_id"),
    # The signed statement of the erasure names the person by their pseudonymous subject ids.
    ("erasure_requests", "statement_jws", "subject_id"),
}
# Until the shop's receiver has them: subject.erased (the customer reference the shop erases
# by) and the withdrawals' consent.changed, rewritten once delivered.
ALLOWED_UNTIL_DELIVERED = {
    ("outbox", "payload", "subject_id"),
    ("outbox", "payload", "visitor_id"),
    ("outbox", "payload", "customer_ref"),
    ("outbox", "redact_on_settle", "subject_id"),
    ("outbox", "redact_on_settle", "visitor_id"),
    ("outbox", "redact_on_settle", "customer_ref"),
}


@dataclasses.dataclass
class Person:
    identity_id: uuid.UUID
    email: str
    customer_ref: str
    email_index: str
    customer_index: str
    visitors: list[uuid.UUID]
    subjects: list[uuid.UUID]

    def identifiers(self) -> dict[str, list[str]]:
        """Each identifier as text, in every spelling the database could hold it."""
        return {
            "email": [self.email, self.email.lower()],
            "customer_ref": [self.customer_ref],
            "email_index": [self.email_index[:16]],
            "customer_index": [self.customer_index[:16]],
            "visitor_id": [s for v in self.visitors for s in (str(v), v.hex)],
            "subject_id": [s for v in self.subjects for s in (str(v), v.hex)],
        }


def _texts(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bytes):
        return [value.decode("latin-1")]
    text = value if isinstance(value, str) else json.dumps(value)
    found = [text]
    parts = text.split(".")
    if len(parts) == 3 and all(parts):  # a compact JWS: what it signs is base64url
        with contextlib.suppress(ValueError):
            found.append(b64url_decode(parts[1]).decode())
    return found


def where_found(session, person: Person) -> set[tuple[str, str, str]]:
    """(table, column, kind of identifier) for every text, JSON and binary column of every
    table holding one of the person's identifiers."""
    session.flush()
    found = set()
    kinds = person.identifiers()
    for table in Base.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, sa.String | sa.JSON | sa.LargeBinary)
            and not isinstance(c.type, sa.Uuid)
        ]
        if not columns:
            continue
        for row in session.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                for text in _texts(value):
                    for kind, spellings in kinds.items():
                        if any(s in text for s in spellings):
                            found.add((table.name, column.name, kind))
    return found


@pytest.fixture
def deliver(app, session):
    def _deliver():
        worker = build_worker(session, vault=app.extensions["vault"], allow_private_networks=True)
        return worker.run(once=True)

    return _deliver


@pytest.fixture
def person(app, client, session, api_key, consent_via_widget, receiver, deliver) -> Person:
    """A customer with two browsers, every kind of look-up logged, every event delivered."""
    register(app, session, receiver.url, ("consent.changed", "subject.erased"))
    session.commit()
    headers = api_key("consent:read", "subjects:write")
    tag = uuid.uuid4().hex[:10]
    email, ref = f"Erase.Me.{tag}@Example.com", f"cust-{tag}"
    visitors = [uuid.uuid4(), uuid.uuid4()]
    for visitor in visitors:
        consent_via_widget(visitor, marketing=True, analytics=True)
        linked = client.post(
            "/v1/subjects/link",
            json={"visitor_id": str(visitor), "customer": ref, "email": email},
            headers=headers,
        )
        assert linked.status_code == 200, linked.json
    consent_via_widget(visitors[0], marketing=False)  # now known: its event names the customer
    subjects = list(session.scalars(sa.select(Subject.id).where(Subject.visitor_id.in_(visitors))))
    for subject in (
        f"visitor:{visitors[0]}",
        f"customer:{ref}",
        f"subject:{subjects[0]}",
    ):
        asked = client.get(
            "/v1/decisions",
            query_string={"subject": subject, "purpose": "marketing"},
            headers=headers,
        )
        assert asked.status_code == 200, asked.json
    bulk = client.post(
        "/v1/decisions",
        json={
            "subjects": [f"visitor:{visitors[1]}", f"email:{email}", f"visitor:{uuid.uuid4()}"],
            "purposes": ["marketing"],
        },
        headers=headers,
    )
    assert bulk.status_code == 200, bulk.json
    assert deliver().delivered >= 2
    identity = session.scalar(
        sa.select(Identity)
        .join(Subject, Subject.identity_id == Identity.id)
        .where(Subject.visitor_id == visitors[0])
    )
    assert identity is not None and identity.email_index is not None
    assert identity.customer_ref_index is not None
    return Person(
        identity.id,
        email,
        ref,
        identity.email_index,
        identity.customer_ref_index,
        visitors,
        subjects,
    )


def erase_person(app, session, person: Person):
    prop = get_property(session, "demo-shop")
    access = Access(prop.id, None, person.identity_id, Via.MAGIC_LINK, utcnow())
    return erase_now(app, session, access)


def test_before_erasure_the_log_and_the_identity_name_the_person(session, person):
    found = where_found(session, person)
    assert ("identities", "customer_ref_index", "customer_index") in found
    assert ("identities", "email_index", "email_index") in found
    assert ("decision_log", "answers", "visitor_id") in found
    assert ("decision_log", "answers", "customer_index") in found
    assert ("decision_log", "answers", "email_index") in found
    assert ("decision_log", "answers", "subject_id") in found
    assert ("outbox", "payload", "visitor_id") in found


def test_before_erasure_the_customer_reference_and_email_are_stored_only_sealed(session, person):
    found = {kind for _, _, kind in where_found(session, person)}
    assert "customer_ref" not in found and "email" not in found


def test_after_erasure_only_the_allowed_places_hold_the_person(app, session, person, deliver):
    erase_person(app, session, person)
    assert where_found(session, person) - ALLOWED_UNTIL_DELIVERED <= ALLOWED_AFTER_DELIVERY
    deliver()
    assert where_found(session, person) == ALLOWED_AFTER_DELIVERY


def test_the_shop_still_receives_subject_erased_with_the_customer_reference(
    app, session, person, receiver, deliver
):
    erase_person(app, session, person)
    deliver()
    erased = [json.loads(r.body) for r in receiver.requests if '"subject.erased"' in r.body]
    assert [e["data"]["customer_ref"] for e in erased] == [person.customer_ref]
    stored = session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.event_type == "subject.erased")
    )
    assert stored.status == OutboxStatus.DELIVERED.value
    assert stored.redacted_at is not None and stored.redact_on_settle is None
    assert json.loads(stored.payload)["data"]["customer_ref"] == REDACTED


def test_the_decision_log_keeps_its_counts_and_other_peoples_labels(app, session, person):
    before = {
        e.id: (e.item_count, e.allowed_count, len(e.answers))
        for e in session.scalars(sa.select(DecisionLogEntry))
    }
    done = erase_person(app, session, person)
    session.expire_all()
    entries = list(session.scalars(sa.select(DecisionLogEntry)))
    assert {e.id: (e.item_count, e.allowed_count, len(e.answers)) for e in entries} == before
    rewritten = [e for e in entries if e.pseudonymised_at is not None]
    assert len(rewritten) == 4 == done.request.summary["decision_log_entries_pseudonymised"]
    bulk = next(e for e in rewritten if e.item_count == 3)
    labels = [answer[0] for answer in bulk.answers]
    assert labels[:2] == [ERASED_LABEL, ERASED_LABEL]
    assert labels[2].startswith("visitor:")  # someone else, still named


def test_receipts_still_verify_after_erasure(app, session, person):
    erase_person(app, session, person)
    for subject_id in person.subjects:
        assert verify_receipts(session, subject_id=subject_id).breaks == []


def test_a_second_erasure_finds_the_first_and_rewrites_nothing(app, session, person):
    first = erase_person(app, session, person)
    stamps = dict(
        session.execute(sa.select(DecisionLogEntry.id, DecisionLogEntry.pseudonymised_at)).all()
    )
    second = erase_person(app, session, person)
    assert not second.done_now
    assert second.request.id == first.request.id
    assert second.request.statement_jws == first.request.statement_jws
    again = dict(
        session.execute(sa.select(DecisionLogEntry.id, DecisionLogEntry.pseudonymised_at)).all()
    )
    assert again == stamps
