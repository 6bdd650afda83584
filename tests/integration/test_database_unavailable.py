"""A database the service cannot use is a fail-closed 503 that names it, on every surface in its
own form, never a 500 or a wait without end (SQLite here; a frozen and a stopped PostgreSQL in
``test_database_outage.py``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service import create_app
from consent_service.extensions import db
from consent_service.infra.database import begin_write
from tests.integration.test_admin_support import AdminClient
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


@pytest.fixture
def unreachable(tmp_path):
    """An app whose database file cannot be opened (its folder does not exist)."""
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'gone' / 'consent.db'}"))
    yield app
    shut_down(app)


def test_the_api_answers_a_503_problem_with_retry_after(unreachable):
    response = unreachable.test_client().get("/v1/banner", query_string={"property": "demo-shop"})
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "http://consent.test/problems/database-unavailable"
    assert response.headers["Retry-After"] == "5"


def test_liveness_never_asks_the_database_and_readiness_says_503(unreachable):
    client = unreachable.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503


def test_the_preferences_page_answers_in_html(unreachable):
    response = unreachable.test_client().get("/preferences/")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "database is not answering" in response.get_data(as_text=True)


def test_the_admin_answers_in_html(unreachable):
    response = AdminClient(unreachable).post(
        "/admin/sign-in", {"email": "ada@example.com", "password": "long enough password 1"}
    )
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "5"
    assert "database is not answering" in response.get_data(as_text=True)
