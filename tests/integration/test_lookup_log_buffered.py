"""The look-up log as production runs it: buffered, written by a background thread.

Every look-up is still logged, none lost when the app stops cleanly, and a look-up never
waits for the database's writer: on SQLite it completes while another connection holds the
write lock. These tests use a database of their own where requests really commit (a fresh
SQLite file, or ``<TEST_DATABASE_URL's database>_lookup_log``); the buffer's flush interval
is an hour, so whatever is in the table came from the shutdown's flush.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from consent_service.models import ApiKey
from consent_service.models import DecisionLogEntry
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

HOUR_MS = 3_600_000
THREADS = 4
PER_THREAD = 12  # every third a bulk request


def _api_key(app: Flask) -> dict[str, str]:
    with app.app_context():
        issued = create_api_key(
            db.session(), "demo-shop", name="log", scopes=["consent:read"], rate_limit=None
        )
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {issued.plaintext}"}


def _log_rows(url: str) -> dict[str, int]:
    """request id -> item count of every logged look-up, read on a connection of its own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            log = DecisionLogEntry.__table__
            rows = connection.execute(sa.select(log.c.request_id, log.c.item_count))
            return {request_id: items for request_id, items in rows}
    finally:
        engine.dispose()


def _burst(app: Flask, headers: dict[str, str]) -> dict[str, int]:
    """THREADS clients at once, each PER_THREAD look-ups; request id -> items answered."""
    answered: dict[str, int] = {}
    failures: list[object] = []
    start = threading.Barrier(THREADS)

    def client_thread(n: int) -> None:
        client = app.test_client()
        start.wait(timeout=10)
        for i in range(PER_THREAD):
            if i % 3 == 2:
                body = {
                    "subjects": [f"visitor:{uuid.uuid4()}", f"customer:c-{n}-{i}"],
                    "purposes": ["marketing", "analytics"],
                }
                response = client.post("/v1/decisions", json=body, headers=headers)
            else:
                query = {"subject": f"customer:c-{n}-{i}", "purpose": "marketing"}
                response = client.get("/v1/decisions", query_string=query, headers=headers)
            if response.status_code != 200:
                failures.append(response.json)
                continue
            items = len(response.json["decisions"]) if "decisions" in response.json else 1
            answered[response.headers["X-Request-ID"]] = items

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    return answered


@pytest.fixture
def buffered(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    url = own_database_url(tmp_path, "lookup_log")
    app = started_on_fresh_database(make_settings(tmp_path, url, access_log_flush_ms=HOUR_MS))
    yield app, url
    shut_down(app)  # again: closing twice is allowed


def test_every_look_up_of_a_burst_is_logged_once_the_app_stops(buffered):
    app, url = buffered
    headers = _api_key(app)
    answered = _burst(app, headers)
    assert len(answered) == THREADS * PER_THREAD
    assert _log_rows(url) == {}  # all still buffered: no look-up wrote in its request
    shut_down(app)
    assert _log_rows(url) == answered
    engine = sa.create_engine(url)
    with engine.connect() as connection:  # the key's last use, deferred the same way
        assert connection.scalar(sa.select(sa.func.count()).where(ApiKey.last_used_at.is_not(None)))
    engine.dispose()


def test_a_look_up_completes_while_another_connection_holds_the_sqlite_write_lock(tmp_path):
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    # A short busy timeout: a look-up that waited for the lock would fail (503), not hang.
    settings = make_settings(
        tmp_path, url, access_log_flush_ms=HOUR_MS, database_statement_timeout_ms=200
    )
    app = started_on_fresh_database(settings)
    try:
        headers = _api_key(app)
        client = app.test_client()
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # the write lock, as a consent write holds it
        try:
            response = client.get(
                "/v1/decisions",
                query_string={"subject": "customer:c-locked", "purpose": "marketing"},
                headers=headers,
            )
            assert writer.in_transaction  # answered while the lock was held
        finally:
            writer.rollback()
            writer.close()
        assert response.status_code == 200, response.json
        assert (response.json["allowed"], response.json["reason"]) == (False, "no_record")
    finally:
        shut_down(app)
    assert _log_rows(url) == {response.headers["X-Request-ID"]: 1}
