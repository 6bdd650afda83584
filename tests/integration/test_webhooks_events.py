"""Events become outbox rows in the transaction of the change that caused them."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.integrations.identity import convert_identity
from consent_service.messaging.outbox import ClaimedMessage
from consent_service.messaging.webhooks import EVENT_TYPES
from consent_service.messaging.webhooks import customer_refs
from consent_service.messaging.webhooks import disable_endpoint
from consent_service.messaging.webhooks import emit_event
from consent_service.messaging.webhooks import with_customer_ref
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.models.base import new_id
from consent_service.models.base import utcnow
from tests.webhook_receiver import register

URL = "https://hooks.example.com/consent"


def _messages(session) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.created_at)))


def _data(message: OutboxMessage) -> dict:
    return json.loads(message.payload)["data"]


def test_the_four_event_types_exist() -> None:
    assert set(EVENT_TYPES) == {
        "consent.changed",
        "subject.erased",
        "policy.published",
        "scan.completed",
    }


def test_a_consent_without_endpoints_writes_no_outbox_row(session, record) -> None:
    record(uuid.uuid4(), analytics=True)
    assert _messages(session) == []


def test_a_consent_is_queued_once_per_subscribed_endpoint(app, session, record) -> None:
    first = register(app, session, URL).endpoint
    second = register(app, session, URL + "/2", ("consent.changed", "policy.published")).endpoint
    register(app, session, URL + "/3", ("policy.published",))
    recorded = record(uuid.uuid4(), analytics=True)
    messages = _messages(session)
    assert {m.endpoint_id for m in messages} == {first.id, second.id}
    assert {m.status for m in messages} == {"pending"}
    assert {m.channel for m in messages} == {"webhook"}
    assert all(_data(m)["receipt_id"] == str(recorded.receipt_id) for m in messages)
    assert messages[0].id != messages[1].id  # one webhook-id per delivery


def test_a_disabled_endpoint_gets_no_events(app, session, record) -> None:
    endpoint = register(app, session, URL).endpoint
    disable_endpoint(session, endpoint, reason="test")
    record(uuid.uuid4(), analytics=True)
    assert _messages(session) == []


def test_the_consent_changed_payload_is_thin_and_complete(app, session, record) -> None:
    register(app, session, URL)
    visitor = uuid.uuid4()
    recorded = record(visitor, analytics=True)
    message = _messages(session)[0]
    body = json.loads(message.payload)
    assert message.payload == json.dumps(body, separators=(",", ":"))  # minified, as signed
    assert body["type"] == "consent.changed"
    assert body["timestamp"] == recorded.payload["issued_at"]
    assert body["data"] == {
        "property": "demo-shop",
        "subject_id": recorded.payload["subject"],
        "visitor_id": str(visitor),
        "customer_ref": None,
        "receipt_id": str(recorded.receipt_id),
        "policy_version": 2,
        "jurisdiction": recorded.payload["jurisdiction"],
        "method": "custom",
        "gpc": False,
        "decisions": recorded.payload["decisions"],
        "changed_purposes": list(recorded.payload["decisions"]),  # all new on a first choice
    }


def test_changed_purposes_lists_only_what_differs_from_the_previous_choice(
    app, session, record
) -> None:
    visitor = uuid.uuid4()
    record(visitor, analytics=True)
    register(app, session, URL)
    record(visitor, analytics=True, marketing=True)
    record(visitor, analytics=False, marketing=True)
    first, second = (_data(m) for m in _messages(session))
    assert first["changed_purposes"] == ["marketing"]
    assert second["changed_purposes"] == ["analytics"]
    assert second["decisions"]["marketing"] == "granted"


def test_a_linked_subject_carries_its_customer_ref_but_never_an_email(app, session, record) -> None:
    # The queued payload names the customer by identity only; the worker fills the reference
    # in at delivery (with the person's key), so the outbox never stores it in plain text.
    visitor = uuid.uuid4()
    recorded = record(visitor)
    identity = Identity(
        id=new_id(),
        property_id=session.scalar(sa.select(Property.id).where(Property.key == "demo-shop")),
        customer_ref="cust-42",
        email_ciphertext=None,
        email_index="0" * 64,
    )
    convert_identity(app.extensions["vault"], identity, now=utcnow())
    session.add(identity)
    session.flush()
    subject = session.get(Subject, uuid.UUID(recorded.payload["subject"]))
    subject.identity_id = identity.id
    session.flush()
    register(app, session, URL)
    record(visitor, analytics=True)
    message = _messages(session)[0]
    assert _data(message)["customer_ref"] is None
    assert message.identity_id == identity.id
    claimed = ClaimedMessage(
        message.id,
        message.property_id,
        message.channel,
        message.endpoint_id,
        message.event_type,
        message.payload,
        1,
        utcnow(),
        identity_id=message.identity_id,
    )
    refs = customer_refs(session, app.extensions["vault"], [claimed])
    filled = with_customer_ref(claimed, refs.get(identity.id))
    assert json.loads(filled.payload)["data"]["customer_ref"] == "cust-42"
    assert "email" not in filled.payload and "cust-42" not in message.payload


def test_the_outbox_row_rolls_back_with_its_receipt(app, session, record, receipt_count) -> None:
    register(app, session, URL)
    before = receipt_count()
    savepoint = session.begin_nested()
    record(uuid.uuid4(), analytics=True)
    assert len(_messages(session)) == 1
    savepoint.rollback()
    assert receipt_count() == before
    assert _messages(session) == []


def test_a_refused_consent_queues_nothing(app, session, client, consent_body) -> None:
    register(app, session, URL)
    session.commit()
    response = client.post("/v1/consents", json={**consent_body, "policy_version": 99})
    assert response.status_code == 404
    assert _messages(session) == []


def test_a_consent_through_the_api_is_committed_with_its_event(
    app, session, client, consent_body
) -> None:
    register(app, session, URL)
    session.commit()
    response = client.post("/v1/consents", json=consent_body)
    assert response.status_code == 201
    assert _data(_messages(session)[0])["receipt_id"] == response.json["receipt_id"]


def test_publishing_a_policy_version_emits_policy_published(app, session) -> None:
    endpoint = register(app, session, URL, ("policy.published",)).endpoint
    document = get_document(session, "demo-shop", "privacy-policy")
    draft = create_draft(
        session, document, "# New\n", material=True, affected_purposes=["marketing"]
    )
    version = publish(session, draft)
    (message,) = _messages(session)
    body = json.loads(message.payload)
    assert message.endpoint_id == endpoint.id
    assert body["type"] == "policy.published"
    assert body["data"] == {
        "property": "demo-shop",
        "document": "privacy-policy",
        "version": version.number,
        "sha256": version.sha256,
        "material": True,
        "affected_purposes": ["marketing"],
        "effective_at": body["timestamp"],
    }


def test_emit_event_takes_any_known_type_such_as_subject_erased(app, session) -> None:
    register(app, session, URL, ("subject.erased",))
    property_id = session.scalar(sa.select(Property.id).where(Property.key == "demo-shop"))
    ids = emit_event(
        session,
        property_id,
        "subject.erased",
        {"subject_id": "s-1"},
        now=dt.datetime.now(dt.UTC),
    )
    assert [m.id for m in _messages(session)] == ids


def test_emit_event_refuses_an_unknown_type(session) -> None:
    with pytest.raises(ValueError):
        emit_event(session, 1, "consent.exploded", {}, now=dt.datetime.now(dt.UTC))
