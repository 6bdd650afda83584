"""Several gunicorn processes on one database, as ``make run`` serves its SQLite file:
consent writes for one visitor from every process at once all succeed and chain without a
gap, while look-ups keep answering.

On SQLite, ``BEGIN IMMEDIATE`` takes the database file's write lock, which orders writers of
every process; the in-process lock of ``infra/database.py`` and the file lock of
``infra/process_lock.py`` only let a process's threads, and the processes, wait without
polling. Two workers of two threads exercise both waits. With
TEST_DATABASE_URL the same runs on PostgreSQL (row locks).
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.consent.verification import verify_receipts
from consent_service.models import ConsentReceipt
from consent_service.models import Subject
from tests.bench import databases
from tests.bench.http_load import Served
from tests.bench.http_load import gunicorn
from tests.support import demo_consent
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import settings_environment
from tests.support import shut_down
from tests.support import started_on_fresh_database

pytestmark = pytest.mark.slow  # a gunicorn of its own with two worker processes

WRITERS, WRITES_EACH = 6, 8
READERS, READS_EACH = 2, 20


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str, Path, str]]:
    """gunicorn, 2 workers x 2 threads, on a database of its own, once both workers answer;
    its access log names the worker process that answered each request. A worker takes two
    connections at most, so clients of more connections reach both."""
    instance = tmp_path_factory.mktemp("processes")
    settings = make_settings(instance, own_database_url(instance, "processes"))
    app = started_on_fresh_database(settings)
    key = databases.api_key(app)
    shut_down(app)
    log = instance / "access.log"
    options = [
        "--worker-connections=2",
        f"--access-logfile={log}",
        "--access-logformat=%(p)s %(m)s %(s)s",
    ]
    env = {**settings_environment(settings), "CONSENT_LOG_LEVEL": "ERROR"}
    with gunicorn("wsgi:app", env, workers=2, threads=2, options=options) as server:
        _until_both_workers_answer(server.port, log)
        yield server, key, log, settings.database_url


def _pids(log: Path, method: str, status: int) -> set[str]:
    return {
        line.split()[0]
        for line in log.read_text().splitlines()
        if line.split()[1:] == [method, str(status)]
    }


def _until_both_workers_answer(port: int, log: Path) -> None:
    """A worker is forked before it has loaded the app: ask from several connections at once
    until each worker has answered."""
    health = [("GET", "/healthz", None, {})]
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(6) as pool:
        while time.monotonic() < deadline:
            list(pool.map(_exchange, [port] * 6, [health] * 6))
            if len(_pids(log, "GET", 200)) == 2:
                return
            time.sleep(0.1)
    raise AssertionError("one worker never answered")


def _exchange(
    port: int, requests: list[tuple[str, str, bytes | None, dict[str, str]]]
) -> list[int]:
    """Each request in turn on one keep-alive connection; the statuses."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    statuses = []
    for method, path, body, headers in requests:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
    connection.close()
    return statuses


def test_writes_for_one_visitor_from_every_process_chain_without_gaps(served):
    server, key, log, url = served
    visitor = uuid.uuid4()
    post = (
        "POST",
        "/v1/consents",
        json.dumps(demo_consent(visitor)).encode(),
        {"Content-Type": "application/json"},
    )
    look_up = (
        "GET",
        f"/v1/decisions?subject=visitor:{visitor}&purpose=analytics",
        None,
        {"Authorization": f"Bearer {key}"},
    )
    start = threading.Barrier(WRITERS + READERS)

    def client(requests):
        start.wait(timeout=30)
        return _exchange(server.port, requests)

    with ThreadPoolExecutor(WRITERS + READERS) as pool:
        writes = [pool.submit(client, [post] * WRITES_EACH) for _ in range(WRITERS)]
        reads = [pool.submit(client, [look_up] * READS_EACH) for _ in range(READERS)]
        assert [s for f in writes for s in f.result()] == [201] * WRITERS * WRITES_EACH
        assert [s for f in reads for s in f.result()] == [200] * READERS * READS_EACH

    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            chain = session.scalars(
                sa.select(ConsentReceipt)
                .join(Subject, Subject.id == ConsentReceipt.subject_id)
                .where(Subject.visitor_id == visitor)
                .order_by(ConsentReceipt.seq)
            ).all()
            assert [r.seq for r in chain] == list(range(1, WRITERS * WRITES_EACH + 1))
            for previous, receipt in itertools.pairwise(chain):
                assert receipt.prev_hash == previous.jws_sha256
            report = verify_receipts(session)
            assert report.ok, report.breaks
    finally:
        engine.dispose()
    assert len(_pids(log, "POST", 201)) == 2, "both worker processes recorded consents"
