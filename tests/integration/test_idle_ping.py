"""Pooled PostgreSQL connections are pinged before use only after sitting idle (a ping per
request cost as much CPU as a whole bare request): a connection whose server session died
while idle is replaced unseen; one that died within the idle window fails its request
closed (503), and the next request gets a new connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.infra import database
from consent_service.integrations.api_keys import create_api_key
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import postgres_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

pytestmark = pytest.mark.skipif(
    postgres_url() is None, reason="PostgreSQL only: run with TEST_DATABASE_URL"
)
QUERY = {"subject": "customer:c-ping", "purpose": "marketing"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, dict[str, str], str]]:
    url = own_database_url(tmp_path, "idle_ping")
    app = started_on_fresh_database(make_settings(tmp_path, url, api_key_cache_seconds=60))
    with app.app_context():
        issued = create_api_key(db.session(), "demo-shop", name="ping", scopes=["consent:read"])
        db.session.commit()
        db.session.remove()
    yield app, {"Authorization": f"Bearer {issued.plaintext}"}, url
    shut_down(app)


def _kill_the_pool(url: str) -> None:
    """End every other server session on the database: the app's pooled connections die."""
    killer = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with killer.connect() as connection:
        killed = connection.scalar(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()
    assert killed


def test_a_connection_that_died_while_idle_is_replaced_before_use(served, monkeypatch):
    app, headers, url = served
    client = app.test_client()
    assert client.get("/v1/decisions", query_string=QUERY, headers=headers).status_code == 200
    _kill_the_pool(url)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle long enough
    response = client.get("/v1/decisions", query_string=QUERY, headers=headers)
    assert response.status_code == 200, response.json


def test_one_that_died_within_the_idle_window_fails_closed_then_the_pool_recovers(
    served, monkeypatch
):
    app, headers, url = served
    client = app.test_client()
    assert client.get("/v1/decisions", query_string=QUERY, headers=headers).status_code == 200
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)  # however slow this runs
    _kill_the_pool(url)  # within the idle window of its last use: not pinged
    failed = client.get("/v1/decisions", query_string=QUERY, headers=headers)
    assert failed.status_code == 503
    assert failed.json["type"].endswith("/problems/database-unavailable")
    response = client.get("/v1/decisions", query_string=QUERY, headers=headers)
    assert response.status_code == 200, response.json
