"""``consent-service worker`` processes: crash-safe (at least once) and, side by side, each
message delivered once in the normal case.

These tests need real commits seen by other processes, so they use a database of their own:
a fresh SQLite file, or with TEST_DATABASE_URL the PostgreSQL database
``<test database>_webhook_workers`` (several workers there claim with SKIP LOCKED).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.messaging.webhooks import emit_event
from consent_service.messaging.webhooks import webhook_id
from consent_service.models import OutboxMessage
from consent_service.models import Property
from consent_service.models import WebhookEndpoint
from consent_service.models.base import utcnow
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import settings_environment
from tests.support import shut_down
from tests.support import started_on_fresh_database
from tests.webhook_receiver import Answer
from tests.webhook_receiver import Receiver
from tests.webhook_receiver import register
from tests.webhook_receiver import running_receiver

pytestmark = pytest.mark.slow  # worker processes start (about a second each) and deliver


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("webhook-workers")
    url = own_database_url(instance, "webhook_workers")
    app = started_on_fresh_database(make_settings(instance, url))
    yield app
    shut_down(app)


@pytest.fixture
def clean(live_app: Flask) -> Iterator[Flask]:
    with live_app.app_context():
        yield live_app
        db.session.rollback()
        db.session.execute(sa.delete(OutboxMessage))
        db.session.execute(sa.delete(WebhookEndpoint))
        db.session.commit()
        db.session.remove()


def _queue(app: Flask, receiver: Receiver, count: int) -> tuple[str, set[str]]:
    """Register an endpoint at ``receiver`` and queue ``count`` events; committed."""
    session = db.session()
    secret = register(app, session, receiver.url, ("subject.erased",)).secret
    property_id = session.scalar(sa.select(Property.id).where(Property.key == "demo-shop"))
    ids: list = []
    for n in range(count):
        ids += emit_event(session, property_id, "subject.erased", {"n": n}, utcnow())
    session.commit()
    return secret, {webhook_id(i) for i in ids}


def _worker(app: Flask, *options: str) -> subprocess.Popen[bytes]:
    """``consent-service worker`` in its own process, configured like the test app."""
    env = {
        **os.environ,
        **settings_environment(app.extensions["consent_settings"]),
        "CONSENT_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "CONSENT_LOG_LEVEL": "WARNING",
    }
    script = Path(sys.executable).with_name("consent-service")
    return subprocess.Popen([str(script), "worker", *options], env=env, stderr=subprocess.PIPE)


def _statuses(app: Flask) -> Counter[str]:
    db.session.rollback()
    return Counter(db.session.scalars(sa.select(OutboxMessage.status)))


def test_a_worker_killed_mid_batch_loses_nothing(clean: Flask) -> None:
    with running_receiver(Answer(200, delay=0.3)) as receiver:
        secret, expected = _queue(clean, receiver, 12)
        first = _worker(
            clean, "--batch-size", "12", "--lease-seconds", "2", "--poll-interval", "0.1"
        )
        assert receiver.wait_for(3, timeout=30), first.stderr
        first.send_signal(signal.SIGKILL)  # mid-batch: one POST in flight, nine claimed
        first.communicate(timeout=10)
        assert _statuses(clean)["delivered"] < 12
        second = _worker(clean, "--batch-size", "5", "--poll-interval", "0.1")
        try:
            assert receiver.wait_for(12, timeout=60)
            time.sleep(0.5)  # let the last outcome be recorded
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = second.communicate(timeout=30)
        assert second.returncode == 0, stderr
        assert set(receiver.ids()) == expected  # every message, under its own stable id
        assert len(receiver.ids()) - len(expected) <= 1  # only the one in flight came twice
        receiver.verified(secret)
    assert _statuses(clean) == {"delivered": 12}


def test_sigterm_lets_the_message_in_flight_finish(clean: Flask) -> None:
    with running_receiver(Answer(200, delay=1.0)) as receiver:
        _queue(clean, receiver, 5)
        worker = _worker(clean, "--batch-size", "5", "--poll-interval", "0.1")
        assert receiver.wait_for(1, timeout=30)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
        assert worker.returncode == 0, stderr
        assert b"1 delivered" in stderr and b"4 handed back" in stderr
    assert _statuses(clean) == {"delivered": 1, "pending": 4}
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.locked_until.is_not(None)))
        == 0
    )


def test_concurrent_workers_deliver_each_message_exactly_once(clean: Flask) -> None:
    with running_receiver(Answer(200, delay=0.02)) as receiver:
        secret, expected = _queue(clean, receiver, 60)
        workers = [_worker(clean, "--once", "--batch-size", "4") for _ in range(3)]
        for worker in workers:
            _, stderr = worker.communicate(timeout=120)
            assert worker.returncode == 0, stderr
        counts = Counter(receiver.ids())
        assert set(counts) == expected
        assert set(counts.values()) == {1}
        receiver.verified(secret)
    assert _statuses(clean) == {"delivered": 60}
