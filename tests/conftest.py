"""Fixtures: one migrated database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL), and
one rolled-back transaction per test so tests never see each other's rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from consent_service.extensions import db
from consent_service.models import ConsentReceipt
from tests.support import demo_consent
from tests.support import ensure_postgres_database
from tests.support import make_settings
from tests.support import postgres_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

DEMO_PROPERTY = "demo-shop"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run skips tests that never use the suite's database: they ran, the
    same, in the SQLite run (``make test`` runs both; CI's time is bounded)."""
    if not postgres_url():
        return
    ran_already = pytest.mark.skip(reason="own_database: the SQLite run ran it, the same")
    for item in items:
        if item.get_closest_marker("own_database"):
            item.add_marker(ran_already)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = postgres_url()
    if url:
        ensure_postgres_database(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'consent-test.db'}"


@pytest.fixture(scope="session")
def _app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = started_on_fresh_database(
        make_settings(tmp_path_factory.mktemp("instance"), database_url)
    )
    app.config["TESTING"] = True
    yield app
    shut_down(app)


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """Each test runs inside one outer transaction that is rolled back afterwards.

    App code may commit or roll back: with ``join_transaction_mode="create_savepoint"`` those
    act on a SAVEPOINT, never on the outer transaction.
    """
    # What was cached in a rolled-back transaction is not what the database ever had.
    _app.extensions["context_cache"].clear()
    _app.extensions["banner_cache"].clear()
    with _app.app_context():
        swapped = []
        engines = db.engines
        for key, engine in list(engines.items()):
            connection = engine.connect()
            transaction = connection.begin()
            engines[key] = connection  # type: ignore[assignment]
            swapped.append((key, engine, connection, transaction))
        db.session.remove()
    db.session.session_factory.kw["join_transaction_mode"] = "create_savepoint"
    ctx = _app.app_context()
    ctx.push()
    try:
        yield _app
    finally:
        db.session.remove()
        ctx.pop()
        db.session.session_factory.kw.pop("join_transaction_mode", None)
        for key, engine, connection, transaction in swapped:
            transaction.rollback()
            connection.close()
            engines[key] = engine


@pytest.fixture
def session(app: Flask) -> Session:
    return db.session()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@pytest.fixture
def consent_body() -> dict[str, object]:
    """A valid custom choice on the demo shop's current privacy policy (version 2)."""
    return demo_consent()


@pytest.fixture
def receipt_count(session: Session):
    """Returns a callable counting receipts, to prove refused requests wrote nothing."""
    return lambda: session.scalar(sa.select(sa.func.count()).select_from(ConsentReceipt))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
