"""``consent-service worker`` processes sending a campaign: killed with SIGKILL between two
messages and restarted, every customer still gets exactly one message.

Real commits seen by other processes need a database of their own: a fresh SQLite file, or
with TEST_DATABASE_URL the PostgreSQL database ``<test database>_mail_workers``.
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
from consent_service.models import EmailCampaign
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import publish_version
from tests.integration.test_notifications_sink import running_sink
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import settings_environment
from tests.support import shut_down
from tests.support import started_on_fresh_database

pytestmark = pytest.mark.slow  # worker processes start (about a second each) and send
CUSTOMERS = 12


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("mail-workers")
    url = own_database_url(instance, "mail_workers")
    app = started_on_fresh_database(make_settings(instance, url))
    yield app
    shut_down(app)


@pytest.fixture
def campaign(live_app: Flask) -> Iterator[set[str]]:
    """A published material version with CUSTOMERS recipients, committed; their addresses."""
    with live_app.app_context():
        session = db.session()
        addresses = {f"customer{n}@example.com" for n in range(CUSTOMERS)}
        for address in sorted(addresses):
            add_customer(live_app, session, address)
        publish_version(session)
        session.commit()
        yield addresses
        session.rollback()
        session.execute(sa.delete(OutboxMessage))
        session.execute(sa.delete(EmailCampaign))
        session.execute(sa.delete(Identity))
        session.commit()
        db.session.remove()


def _worker(app: Flask, port: int, *options: str) -> subprocess.Popen[bytes]:
    settings = app.extensions["consent_settings"]
    env = {
        **os.environ,
        **settings_environment(settings),
        "CONSENT_SMTP_HOST": "127.0.0.1",
        "CONSENT_SMTP_PORT": str(port),
        "CONSENT_SMTP_RATE_LIMIT": "50",
        "CONSENT_LOG_LEVEL": "WARNING",
        # The checkout, importable whatever the installed package lists.
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    script = Path(sys.executable).with_name("consent-service")
    return subprocess.Popen([str(script), "worker", *options], env=env, stderr=subprocess.PIPE)


def _statuses() -> Counter[str]:
    db.session.rollback()
    return Counter(
        db.session.scalars(sa.select(OutboxMessage.status).where(OutboxMessage.channel == "email"))
    )


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_worker_killed_between_messages_and_restarted_sends_each_exactly_once(
    live_app: Flask, campaign: set[str]
) -> None:
    with running_sink() as (server, port):
        first = _worker(live_app, port, "--batch-size", "10", "--lease-seconds", "2")

        def kill_before_the_fifth(mails: int) -> None:
            # MAIL FROM of message 5: message 4 was accepted and its mark committed.
            if mails == 5:
                os.kill(first.pid, signal.SIGKILL)

        server.on_mail = kill_before_the_fifth
        first.communicate(timeout=60)
        assert first.returncode == -signal.SIGKILL
        server.on_mail = None
        assert len(server.messages) == 4
        assert _statuses() == {"delivered": 4, "pending": CUSTOMERS - 4}
        second = _worker(live_app, port, "--batch-size", "5", "--poll-interval", "0.1")
        try:
            assert _wait_for(lambda: len(server.messages) >= CUSTOMERS, timeout=60)
            assert _wait_for(lambda: _statuses() == {"delivered": CUSTOMERS}, timeout=10)
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = second.communicate(timeout=30)
        assert second.returncode == 0, stderr
        received = Counter(m["To"] for m in server.messages)
        assert set(received) == campaign and set(received.values()) == {1}
        message_ids = Counter(m["Message-ID"] for m in server.messages)
        assert len(message_ids) == CUSTOMERS and set(message_ids.values()) == {1}


def test_concurrent_workers_send_each_message_exactly_once(
    live_app: Flask, campaign: set[str]
) -> None:
    with running_sink() as (server, port):
        workers = [_worker(live_app, port, "--once", "--batch-size", "2") for _ in range(3)]
        for worker in workers:
            _, stderr = worker.communicate(timeout=120)
            assert worker.returncode == 0, stderr
        received = Counter(m["To"] for m in server.messages)
        assert set(received) == campaign and set(received.values()) == {1}
    assert _statuses() == {"delivered": CUSTOMERS}
