"""No statement is compiled per request on the hot paths: run a consent write, a single and a
bulk look-up (their log rows written too) and a banner fetch twice, and the second run
compiles nothing: Core finds its statements in SQLAlchemy's compiled cache, and those run on
the driver (``infra.driver_statements``) were compiled once. A statement SQLAlchemy cannot
cache (no cache key: the multi-row state upsert was one, compiled again for every receipt)
fails it as surely as one compiled afresh.

On an app of its own, configured as production runs (buffered look-up log), with banner and
API-key caches off so that those paths reach the database on every request too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.sql.compiler import Compiled

from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from tests.support import demo_consent
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database
from tests.support import statements_sent


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    settings = make_settings(
        tmp_path,
        own_database_url(tmp_path, "statement_cache"),
        access_log_flush_ms=3_600_000,  # written below, when the test says so
    )
    app = started_on_fresh_database(settings)
    yield app
    shut_down(app)


def _hot_paths(app: Flask, headers: dict[str, str], returning: uuid.UUID) -> None:
    """One of each: a first-time and a returning visitor's consent, a single and a bulk
    look-up, a banner fetch; then the look-ups' log rows written."""
    client = app.test_client()
    for visitor in (uuid.uuid4(), returning):
        response = client.post("/v1/consents", json=demo_consent(visitor, marketing=True))
        assert response.status_code == 201, response.json
    single = {"subject": f"visitor:{returning}", "purpose": "marketing"}
    response = client.get("/v1/decisions", query_string=single, headers=headers)
    assert (response.status_code, response.json["reason"]) == (200, "granted")
    bulk = {
        "subjects": [f"visitor:{returning}", "customer:c-1", "email:someone@example.com"],
        "purposes": ["marketing", "analytics"],
    }
    response = client.post("/v1/decisions", json=bulk, headers=headers)
    assert response.status_code == 200, response.json
    response = client.get("/v1/banner", query_string={"property": "demo-shop", "region": "FR"})
    assert response.status_code == 200
    app.extensions["lookup_log"].flush()
    app.extensions["api_key_marks"].flush()


def test_the_second_run_of_every_hot_path_compiles_nothing(app, monkeypatch):
    with app.app_context():
        issued = create_api_key(db.session(), "demo-shop", name="cache", scopes=["consent:read"])
        db.session.commit()
        db.session.remove()
        engine = db.engine
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    returning = uuid.uuid4()
    _hot_paths(app, headers, returning)  # the first run compiles what it needs

    compiled: list[str] = []  # every compilation of any statement
    compile_ = Compiled.__init__

    def record_compilation(self, dialect, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        compiled.append(str(type(statement).__name__))
        compile_(self, dialect, statement, *args, **kwargs)

    monkeypatch.setattr(Compiled, "__init__", record_compilation)
    cache_misses: list[str] = []

    def record(_conn, _cursor, statement, _params, context, _many) -> None:  # type: ignore[no-untyped-def]
        core = context is not None and context.compiled is not None  # not a driver string
        if core and context.cache_hit is not CacheStats.CACHE_HIT:
            cache_misses.append(statement[:120])

    event.listen(engine, "before_cursor_execute", record)
    try:
        with statements_sent(engine) as sent:
            _hot_paths(app, headers, returning)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) >= 10  # consents, look-ups, their log, the banner: all ran
    assert cache_misses == []
    assert compiled == []
