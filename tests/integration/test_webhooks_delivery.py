"""Delivery to a real HTTP receiver: signatures, retries with backoff, 410, redirects, SSRF.

The worker runs in-process on the test's session (its commits are savepoints) and talks HTTP
to a ``http.server`` on 127.0.0.1; nothing of our own HTTP is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from consent_service.messaging.outbox import MAX_ATTEMPTS
from consent_service.messaging.outbox import Outcome
from consent_service.messaging.outbox import Verdict
from consent_service.messaging.outbox import claim_due
from consent_service.messaging.outbox import record_outcome
from consent_service.messaging.outbox import renew
from consent_service.messaging.webhooks import verify
from consent_service.messaging.webhooks import webhook_id
from consent_service.messaging.worker import build_worker
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models import WebhookEndpoint
from consent_service.models.base import utcnow
from tests.webhook_receiver import Answer
from tests.webhook_receiver import register


@pytest.fixture
def deliver(app, session):
    """``deliver(at=None, **options)`` runs one in-process worker until nothing is due."""

    def _deliver(at: dt.datetime | None = None, allow_private: bool = True, **options):
        worker = build_worker(
            session,
            vault=app.extensions["vault"],
            allow_private_networks=allow_private,
            batch_size=options.pop("batch_size", 50),
            clock=(lambda: at) if at else utcnow,
            **options,
        )
        return worker.run(once=True)

    return _deliver


@pytest.fixture
def subscribed(app, session, receiver):
    """An endpoint of the demo shop pointing at the receiver, committed."""
    registered = register(app, session, receiver.url, ("consent.changed", "policy.published"))
    session.commit()
    return registered


def _message(session, message_id=None) -> OutboxMessage:
    session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.created_at)
    if message_id:
        query = query.where(OutboxMessage.id == message_id)
    return session.scalars(query).first()


def test_a_consent_is_delivered_signed_and_verifiable(
    session, record, receiver, subscribed, deliver
) -> None:
    recorded = record(uuid.uuid4(), analytics=True)
    session.commit()
    report = deliver()
    assert report.delivered == 1
    (request,) = receiver.requests
    message = _message(session)
    assert request.webhook_id == webhook_id(message.id)
    assert request.body == message.payload
    assert request.headers["content-type"] == "application/json"
    # The independent reference library and our own verifier both accept it.
    payload = Webhook(subscribed.secret).verify(request.body, request.headers)
    verify(subscribed.secret, request.body, request.headers)
    assert payload["data"]["receipt_id"] == str(recorded.receipt_id)
    assert (message.status, message.attempts, message.last_status) == ("delivered", 1, 200)
    assert message.delivered_at is not None and message.locked_until is None


def test_a_failed_attempt_is_retried_after_five_seconds_under_the_same_id(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(Answer(500))
    start = utcnow()
    assert deliver(at=start).retrying == 1
    message = _message(session)
    assert (message.status, message.attempts, message.last_status) == ("pending", 1, 500)
    assert message.last_error == "HTTP 500"
    wait = message.next_attempt_at - start
    assert dt.timedelta(seconds=4) <= wait <= dt.timedelta(seconds=6)  # 5 s +- 20 % jitter
    assert deliver(at=start + dt.timedelta(seconds=3)).claimed == 0  # not due yet
    assert deliver(at=message.next_attempt_at).delivered == 1
    message = _message(session)
    assert (message.status, message.attempts, message.last_status) == ("delivered", 2, 200)
    first, second = receiver.requests
    assert first.webhook_id == second.webhook_id == webhook_id(message.id)
    Webhook(subscribed.secret).verify(second.body, second.headers)


def test_the_backoff_grows_along_the_schedule(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(Answer(500), Answer(500), Answer(500))
    at = utcnow()
    waits = []
    for _ in range(3):
        deliver(at=at)
        message = _message(session)
        waits.append(message.next_attempt_at - at)
        at = message.next_attempt_at
    assert dt.timedelta(seconds=4) <= waits[0] <= dt.timedelta(seconds=6)
    assert dt.timedelta(minutes=4) <= waits[1] <= dt.timedelta(minutes=6)
    assert dt.timedelta(minutes=24) <= waits[2] <= dt.timedelta(minutes=36)


def test_after_the_last_attempt_a_message_is_dead_and_kept(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(*[Answer(503)] * MAX_ATTEMPTS)
    at = utcnow()
    for _ in range(MAX_ATTEMPTS):
        deliver(at=at)
        at = _message(session).next_attempt_at
    message = _message(session)
    assert (message.status, message.attempts, message.last_status) == ("dead", 10, 503)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert deliver(at=at + dt.timedelta(days=30)).claimed == 0


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(session, record, receiver, subscribed, deliver, status) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(Answer(status, {"Retry-After": "600"}))
    start = utcnow()
    deliver(at=start)
    message = _message(session)
    assert message.status == "pending"
    assert message.next_attempt_at - start == dt.timedelta(seconds=600)


def test_410_disables_the_endpoint_and_buries_its_pending_messages(
    session, record, receiver, subscribed, deliver
) -> None:
    for _ in range(3):
        record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(Answer(410))
    report = deliver(batch_size=1)
    assert report.dead == 1 and report.delivered == 0
    assert len(receiver.requests) == 1
    endpoint = session.get(WebhookEndpoint, subscribed.endpoint.id)
    assert endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason
    statuses = session.scalars(sa.select(OutboxMessage.status)).all()
    assert statuses == ["dead"] * 3
    record(uuid.uuid4(), analytics=True)  # nothing new is queued for it
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    elsewhere = receiver.url.replace("/hooks", "/elsewhere")
    receiver.answer(Answer(307, {"Location": elsewhere}))
    assert deliver().retrying == 1
    assert [r.path for r in receiver.requests] == ["/hooks"]
    message = _message(session)
    assert (message.status, message.last_status) == ("pending", 307)
    assert "not followed" in message.last_error


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(Answer(200, delay=1.0))
    assert deliver(timeout=0.2).retrying == 1
    message = _message(session)
    assert message.last_status is None
    assert message.last_error == "timed out"


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    receiver.answer(Answer(200, trickle=3.0))
    started = time.monotonic()
    assert deliver(timeout=0.5).retrying == 1
    assert time.monotonic() - started < 2.5
    assert _message(session).last_error == "timed out"


def test_loopback_receivers_are_refused_unless_private_networks_are_allowed(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    assert deliver(allow_private=False).retrying == 1
    assert receiver.requests == []
    assert "https" in _message(session).last_error  # plain http to 127.0.0.1: refused


def test_a_message_for_a_disabled_endpoint_dies_without_a_request(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    endpoint = session.get(WebhookEndpoint, subscribed.endpoint.id)
    endpoint.disabled_at = utcnow()  # disabled behind the domain's back: no burial
    session.commit()
    assert deliver().dead == 1
    assert receiver.requests == []
    assert "disabled" in _message(session).last_error


def test_policy_publication_is_delivered_too(app, session, receiver, subscribed, deliver) -> None:
    from consent_service.documents.versions import create_draft
    from consent_service.documents.versions import get_document
    from consent_service.documents.versions import publish

    document = get_document(session, "demo-shop", "privacy-policy")
    publish(session, create_draft(session, document, "# v3\n"))
    session.commit()
    deliver()
    (payload,) = receiver.verified(subscribed.secret)
    assert payload["type"] == "policy.published"


def test_a_worker_told_to_stop_finishes_its_message_and_hands_back_the_rest(
    app, session, record, receiver, subscribed
) -> None:
    for _ in range(4):
        record(uuid.uuid4(), analytics=True)
    session.commit()
    worker = build_worker(session, vault=app.extensions["vault"], allow_private_networks=True)
    receiver.on_request = lambda _request: worker.stop()  # SIGTERM while the POST is in flight
    report = worker.run()
    assert (report.claimed, report.delivered, report.released) == (4, 1, 3)
    session.expire_all()
    rows = session.execute(sa.select(OutboxMessage.status, OutboxMessage.attempts)).all()
    assert sorted(rows) == [("delivered", 1)] + [("pending", 0)] * 3
    assert (
        session.scalar(sa.select(sa.func.count()).where(OutboxMessage.locked_until.is_not(None)))
        == 0
    )


def test_the_delivered_body_is_the_stored_payload_byte_for_byte(
    session, record, receiver, subscribed, deliver
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    deliver()
    assert json.loads(receiver.requests[0].body)["type"] == "consent.changed"
    assert receiver.requests[0].body == _message(session).payload


LEASE = dt.timedelta(seconds=15)


def _claim(session, now):
    claimed = claim_due(session, channels={"webhook"}, now=now, limit=10, lease=LEASE)
    session.commit()
    return claimed


def test_a_renewed_lease_keeps_the_row_from_other_workers(session, record, subscribed) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    now = utcnow()
    (mine,) = _claim(session, now)
    renewed = renew(session, [mine], now=now + dt.timedelta(seconds=10), lease=LEASE)
    session.commit()
    assert renewed[mine.id].lease == now + dt.timedelta(seconds=25)
    assert _claim(session, now + dt.timedelta(seconds=16)) == []  # the first lease lapsed
    delivered = Outcome(Verdict.DELIVERED, status=200)
    assert record_outcome(session, renewed[mine.id], delivered, handler=None, now=now) == (
        OutboxStatus.DELIVERED
    )


def test_a_worker_whose_lease_was_taken_over_can_neither_renew_nor_settle_the_row(
    session, record, subscribed
) -> None:
    record(uuid.uuid4(), analytics=True)
    session.commit()
    now = utcnow()
    (mine,) = _claim(session, now)
    later = now + dt.timedelta(seconds=16)  # the worker died, or lost its database, too long
    (theirs,) = _claim(session, later)
    assert renew(session, [mine], now=later, lease=LEASE) == {}
    delivered = Outcome(Verdict.DELIVERED, status=200)
    assert record_outcome(session, mine, delivered, handler=None, now=later) is None
    retry = Outcome(Verdict.RETRY, status=500)
    assert record_outcome(session, theirs, retry, handler=None, now=later) is OutboxStatus.PENDING
    session.commit()
    row = _message(session)
    assert (row.status, row.attempts, row.last_status) == ("pending", 2, 500)
