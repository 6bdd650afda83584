"""Concurrent consent writes keep every subject's receipt chain linear and complete.

The shared ``app`` fixture runs each test in one rolled-back transaction on one connection, so
it cannot show real concurrency. These tests use a separate database with real commits: a fresh
SQLite file (``BEGIN IMMEDIATE`` serialises writers) or, with TEST_DATABASE_URL, the PostgreSQL
database ``<test database>_concurrency`` (the subject row is locked ``FOR UPDATE``). On both
engines every write must succeed: a ``409 concurrent-consent-write`` here would be a bug.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask import Flask

from consent_service.consent.verification import verify_receipts
from consent_service.extensions import db
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import Purpose
from consent_service.models import Subject
from tests.support import demo_consent
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

THREADS = 8
WRITES_PER_THREAD = 10
PURPOSES = 5  # the demo shop offers essential + preferences, analytics, marketing, advertising

Response = tuple[int, dict]


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on its own freshly migrated database, where every request really commits."""
    instance = tmp_path_factory.mktemp("concurrency")
    url = own_database_url(instance, "concurrency")
    app = started_on_fresh_database(make_settings(instance, url))
    app.config["TESTING"] = True
    yield app
    shut_down(app)


def _body(visitor: uuid.UUID, n: int) -> dict[str, object]:
    """A valid custom choice on policy version 2; the decisions vary with ``n``."""
    return demo_consent(
        visitor,
        preferences=n % 2 == 0,
        analytics=n % 3 == 0,
        marketing=n % 5 == 0,
        advertising=n % 7 == 0,
    )


def _post_concurrently(app: Flask, bodies_per_thread: list[list[dict]]) -> list[Response]:
    """Each thread, with its own test client, posts its bodies in order; all start together."""
    start = threading.Barrier(len(bodies_per_thread))

    def worker(bodies: list[dict]) -> list[Response]:
        client = app.test_client()
        start.wait(timeout=10)
        responses = []
        for body in bodies:
            response = client.post("/v1/consents", json=body)
            responses.append((response.status_code, response.get_json()))
        return responses

    with ThreadPoolExecutor(max_workers=len(bodies_per_thread)) as pool:
        futures = [pool.submit(worker, bodies) for bodies in bodies_per_thread]
        return [response for future in futures for response in future.result()]


def _chain(visitor: uuid.UUID) -> list[ConsentReceipt]:
    return list(
        db.session.scalars(
            sa.select(ConsentReceipt)
            .join(Subject, Subject.id == ConsentReceipt.subject_id)
            .where(Subject.visitor_id == visitor)
            .order_by(ConsentReceipt.seq)
        )
    )


def _assert_linear_and_complete(chain: list[ConsentReceipt], length: int) -> None:
    assert [receipt.seq for receipt in chain] == list(range(1, length + 1))
    assert chain[0].prev_hash is None
    for previous, receipt in itertools.pairwise(chain):
        assert receipt.prev_hash == previous.jws_sha256, f"chain broken at seq {receipt.seq}"


def test_concurrent_writes_for_one_visitor_all_succeed_and_chain_without_gaps(live_app):
    visitor = uuid.uuid4()
    total = THREADS * WRITES_PER_THREAD
    bodies = [
        [_body(visitor, t * WRITES_PER_THREAD + i) for i in range(WRITES_PER_THREAD)]
        for t in range(THREADS)
    ]

    responses = _post_concurrently(live_app, bodies)

    assert [status for status, _ in responses] == [201] * total, responses
    assert sorted(body["payload"]["seq"] for _, body in responses) == list(range(1, total + 1))
    with live_app.app_context():
        chain = _chain(visitor)
        _assert_linear_and_complete(chain, total)
        assert {str(r.id) for r in chain} == {body["receipt_id"] for _, body in responses}
        report = verify_receipts(db.session())
        assert report.ok, report.breaks


def test_concurrent_first_consents_of_a_new_visitor_create_exactly_one_subject(live_app):
    visitor = uuid.uuid4()
    threads = 12

    responses = _post_concurrently(live_app, [[_body(visitor, t)] for t in range(threads)])

    assert [status for status, _ in responses] == [201] * threads, responses
    assert len({body["payload"]["subject"] for _, body in responses}) == 1
    with live_app.app_context():
        subjects = db.session.scalars(sa.select(Subject).where(Subject.visitor_id == visitor))
        assert len(subjects.all()) == 1
        _assert_linear_and_complete(_chain(visitor), threads)


def test_concurrent_writes_for_different_visitors_keep_five_states_matching_the_latest(
    live_app,
):
    visitors = [uuid.uuid4() for _ in range(THREADS)]
    # Thread t writes to visitors t, t+1, ... in turn: every visitor is written by many threads.
    bodies = [
        [
            _body(visitors[(t + i) % THREADS], t * WRITES_PER_THREAD + i)
            for i in range(WRITES_PER_THREAD)
        ]
        for t in range(THREADS)
    ]

    responses = _post_concurrently(live_app, bodies)

    assert [status for status, _ in responses] == [201] * THREADS * WRITES_PER_THREAD, responses
    with live_app.app_context():
        for visitor in visitors:
            chain = _chain(visitor)
            _assert_linear_and_complete(chain, WRITES_PER_THREAD)  # the rotation spreads evenly
            latest = chain[-1]
            states = db.session.execute(
                sa.select(ConsentState, Purpose.key)
                .join(Purpose, Purpose.id == ConsentState.purpose_id)
                .where(ConsentState.subject_id == latest.subject_id)
            ).all()
            assert len(states) == PURPOSES
            for state, key in states:
                assert state.receipt_id == latest.id
                assert state.granted == (latest.decisions[key] == "granted")
        report = verify_receipts(db.session())
        assert report.ok, report.breaks
