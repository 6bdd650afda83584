"""SQLite's side of bounded time: a write that cannot get the database's write lock within
the statement limit is a fail-closed 503 problem, not a wait without end."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.extensions import db
from consent_service.infra.database import begin_write
from tests.support import demo_consent
from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database


def test_a_write_that_waits_past_the_limit_for_the_lock_is_a_503_naming_the_database(tmp_path):
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'busy.db'}", database_statement_timeout_ms=200
    )
    app = started_on_fresh_database(settings)
    try:
        with app.app_context(), Session(db.engine) as holder:
            begin_write(holder)  # another writer of this process holds the lock ...
            holder.execute(sa.text("SELECT 1"))
            response = app.test_client().post("/v1/consents", json=demo_consent())
            holder.rollback()
        assert response.status_code == 503
        assert response.content_type == "application/problem+json"
        assert response.json["type"] == "http://consent.test/problems/database-unavailable"
        assert response.headers["Retry-After"] == "5"
        with app.app_context():  # ... and nothing was written
            count = db.session().execute(sa.text("SELECT count(*) FROM consent_receipts"))
            assert count.scalar_one() == 0
    finally:
        shut_down(app)
