"""``consent-service worker`` processes sending a campaign: killed with SIGKILL between two
messages and restarted, every customer still gets exactly one message; killed anywhere, many
times, no customer is missed and at most one message per kill is sent twice, under the same
Message-ID; a killed worker's messages are taken over within seconds; an SMTP outage costs no
attempts; a database that refuses the settlement for a while loses no outcome.

Real commits seen by other processes need a database of their own: a fresh SQLite file, or
with TEST_DATABASE_URL the PostgreSQL database ``<test database>_mail_workers``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.orm import Session

from consent_service.cli.worker import READY
from consent_service.extensions import db
from consent_service.infra.database import TimeLimits
from consent_service.infra.database import configure_engine
from consent_service.messaging.worker import build_worker
from consent_service.models import EmailCampaign
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from tests.integration.test_notifications_sink import Sink
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import free_port
from tests.integration.test_notifications_sink import publish_version
from tests.integration.test_notifications_sink import running_sink
from tests.integration.test_notifications_sink import setup_for
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import settings_environment
from tests.support import shut_down
from tests.support import started_on_fresh_database

pytestmark = pytest.mark.slow  # worker processes start (about a second each) and send
CUSTOMERS = 12
LARGE_CAMPAIGN = 150
KILLS = 10


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
    yield from _campaign(live_app, CUSTOMERS)


@pytest.fixture
def large_campaign(live_app: Flask) -> Iterator[set[str]]:
    """The same with LARGE_CAMPAIGN recipients."""
    yield from _campaign(live_app, LARGE_CAMPAIGN)


def _campaign(live_app: Flask, customers: int) -> Iterator[set[str]]:
    with live_app.app_context():
        session = db.session()
        addresses = {f"customer{n}@example.com" for n in range(customers)}
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


def _worker(app: Flask, port: int, *options: str, rate: float = 50) -> subprocess.Popen[bytes]:
    settings = app.extensions["consent_settings"]
    env = {
        **os.environ,
        **settings_environment(settings),
        "CONSENT_SMTP_HOST": "127.0.0.1",
        "CONSENT_SMTP_PORT": str(port),
        "CONSENT_SMTP_RATE_LIMIT": str(rate),
        "CONSENT_LOG_LEVEL": "WARNING",
        # The checkout, importable whatever the installed package lists.
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    script = Path(sys.executable).with_name("consent-service")
    worker = subprocess.Popen([str(script), "worker", *options], env=env, stderr=subprocess.PIPE)
    _watch_until_ready(worker)
    return worker


_READY: dict[int, threading.Event] = {}
_EARLY_LINES: dict[int, list[bytes]] = {}


def _watch_until_ready(worker: subprocess.Popen[bytes]) -> None:
    """Read the worker's stderr until its line saying SIGTERM now stops it gracefully (earlier
    lines, start-up warnings, are kept for failure messages); ``communicate`` reads the rest."""
    ready = _READY[worker.pid] = threading.Event()
    seen = _EARLY_LINES[worker.pid] = []

    def read() -> None:
        assert worker.stderr is not None
        for line in iter(worker.stderr.readline, b""):
            seen.append(line)
            if READY.encode() in line:
                ready.set()
                return

    threading.Thread(target=read, daemon=True).start()


def _statuses() -> Counter[str]:
    db.session.rollback()
    return Counter(
        db.session.scalars(sa.select(OutboxMessage.status).where(OutboxMessage.channel == "email"))
    )


def _all_delivered(count: int) -> bool:
    return _statuses() == {"delivered": count}


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
            _stop(second)
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


def _rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage)))


def _running(worker: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until SIGTERM would stop the worker gracefully: a worker signalled before that
    (still importing, under load) would simply die with -15."""
    ready = _READY[worker.pid].wait(timeout)
    assert ready, b"".join(_EARLY_LINES[worker.pid])


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop a worker the way a supervisor does, once it is running; it must exit cleanly."""
    _running(worker)
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, b"".join(_EARLY_LINES[worker.pid]) + stderr


def test_a_worker_killed_anywhere_many_times_misses_no_one_and_repeats_at_most_one_message_per_kill(
    live_app: Flask, large_campaign: set[str]
) -> None:
    rng = random.Random(13)
    started = time.monotonic()
    with running_sink() as (server, port):
        options = ("--batch-size", "20", "--lease-seconds", "2", "--poll-interval", "0.1")
        for _ in range(KILLS):
            worker = _worker(live_app, port, *options, rate=0)
            target = server.mails + rng.randint(2, 20)  # anywhere: sending, settling, claiming
            # A fast worker may send all that is left before a kill lands: then there is
            # nothing more to wait for, and the next worker is killed as soon as it runs.
            assert _wait_for(
                lambda target=target: server.mails >= target or _all_delivered(LARGE_CAMPAIGN),
                timeout=60,
            )
            worker.kill()
            worker.communicate(timeout=30)
        last = _worker(live_app, port, *options, rate=0)
        try:
            done = {"delivered": LARGE_CAMPAIGN}
            assert _wait_for(lambda: _statuses() == done, timeout=120)
        finally:
            _stop(last)
        received = Counter(m["To"] for m in server.messages)
        message_ids: dict[str, set[str]] = {}
        for message in server.messages:
            message_ids.setdefault(message["To"], set()).add(message["Message-ID"])
    duplicates = sum(count - 1 for count in received.values())
    print(f"\n{KILLS} kills: {duplicates} duplicates, {time.monotonic() - started:.1f} s")
    assert set(received) == large_campaign  # no miss
    assert duplicates <= KILLS
    assert all(len(ids) == 1 for ids in message_ids.values())  # a repeat is the same message


def test_a_killed_workers_messages_are_sent_by_another_within_seconds(
    live_app: Flask, campaign: set[str]
) -> None:
    with running_sink() as (server, port):
        first = _worker(live_app, port, "--batch-size", str(CUSTOMERS), rate=2)
        assert _wait_for(lambda: server.mails >= 3, timeout=60)
        first.kill()  # holding the rest of its batch under the default lease
        first.communicate(timeout=30)
        killed = time.monotonic()
        second = _worker(live_app, port, "--poll-interval", "0.1")
        try:
            # The old lease (a batch of timeouts, ~230 s) would hold them for minutes.
            assert _wait_for(lambda: _statuses() == {"delivered": CUSTOMERS}, timeout=60)
            print(f"\nall delivered {time.monotonic() - killed:.1f} s after the kill")
        finally:
            _stop(second)
        assert set(Counter(m["To"] for m in server.messages)) == campaign


def test_a_batch_that_outlasts_its_lease_is_kept_by_the_heartbeat(
    live_app: Flask, campaign: set[str]
) -> None:
    with running_sink() as (server, port):
        # 12 messages at 3 a second take 4 s: twice the lease.
        slow = _worker(
            live_app, port, "--batch-size", str(CUSTOMERS), "--lease-seconds", "2", rate=3
        )
        assert _wait_for(lambda: server.mails >= 1, timeout=60)
        eager = _worker(live_app, port, "--lease-seconds", "2", "--poll-interval", "0.05")
        try:
            _running(eager)
            assert _wait_for(lambda: _statuses() == {"delivered": CUSTOMERS}, timeout=60)
        finally:
            _stop(eager)
            _stop(slow)
        received = Counter(m["To"] for m in server.messages)
        assert set(received) == campaign and set(received.values()) == {1}
    assert {row.attempts for row in _rows()} == {1}  # never claimed by the second worker


def test_an_smtp_outage_uses_no_attempts_and_sending_resumes_soon_after(
    live_app: Flask, campaign: set[str]
) -> None:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    worker = _worker(live_app, port, "--poll-interval", "0.1", rate=10)
    try:
        assert _wait_for(lambda: sink.mails >= 3, timeout=60)
        controller.stop()  # the SMTP server goes away mid-campaign

        def noticed() -> bool:
            return any((row.last_error or "").startswith("cannot reach SMTP") for row in _rows())

        assert _wait_for(noticed, timeout=60)
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        back = time.monotonic()
        assert _wait_for(lambda: _statuses() == {"delivered": CUSTOMERS}, timeout=60)
        print(f"\nall delivered {time.monotonic() - back:.1f} s after SMTP came back")
    finally:
        _stop(worker)
        controller.stop()
    assert set(m["To"] for m in sink.messages) == campaign
    # Only a message cut off mid-conversation by the outage may have used a second attempt.
    assert sum(row.attempts for row in _rows()) <= CUSTOMERS + 1


def test_an_outcome_the_database_refuses_for_a_while_is_recorded_when_it_answers(
    live_app: Flask, campaign: set[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = live_app.extensions["consent_settings"].database_url
    engine = _impatient_engine(url)
    blocker = _Blocker(url)
    try:
        with running_sink() as (server, port), live_app.app_context(), Session(engine) as session:
            sent_while_blocked: list[int] = []

            def unblock() -> None:
                sent_while_blocked.append(server.mails)
                blocker.unlock()

            def block_writes_while_the_first_message_is_in_flight(mails: int) -> None:
                if mails == 1:
                    blocker.lock()
                    threading.Timer(1.5, unblock).start()

            server.on_mail = block_writes_while_the_first_message_is_in_flight
            worker = build_worker(
                session,
                vault=live_app.extensions["vault"],
                allow_private_networks=True,
                email=setup_for(live_app, port),
            )
            report = worker.run(once=True)
            assert report.delivered == CUSTOMERS
            received = Counter(m["To"] for m in server.messages)
            assert set(received) == campaign and set(received.values()) == {1}
    finally:
        blocker.close()
        engine.dispose()
    assert "recording its outcome failed" in caplog.text  # the database did refuse it
    assert sent_while_blocked == [1]  # nothing new was sent while the outcome waited
    assert {(row.status, row.attempts) for row in _rows()} == {("delivered", 1)}


def _impatient_engine(url: str) -> sa.Engine:
    """The app's database, but a writer gives up after 0.2 s instead of waiting its turn."""
    postgres = url.startswith("postgresql")
    engine = sa.create_engine(
        url, connect_args={"options": "-c lock_timeout=200"} if postgres else {}
    )
    configure_engine(engine, TimeLimits(connect=2, statement=0.2))  # SQLite's busy timeout
    return engine


class _Blocker:
    """Another connection that holds the outbox's write lock until told to let go."""

    def __init__(self, url: str) -> None:
        self._postgres = url.startswith("postgresql")
        threads = {} if self._postgres else {"check_same_thread": False}
        self._engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=threads)
        self._connection = self._engine.raw_connection()
        if not self._postgres:
            self._connection.driver_connection.isolation_level = None  # type: ignore[union-attr]

    def lock(self) -> None:
        cursor = self._connection.cursor()
        if self._postgres:
            cursor.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")
        else:
            cursor.execute("BEGIN IMMEDIATE")

    def unlock(self) -> None:
        if self._postgres:
            self._connection.commit()
        else:
            self._connection.cursor().execute("COMMIT")

    def close(self) -> None:
        self._connection.close()
        self._engine.dispose()
