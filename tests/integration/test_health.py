"""Liveness and readiness."""

from __future__ import annotations

from consent_service import create_app
from tests.support import make_settings


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (200, {"status": "ready"})


def test_readyz_is_a_503_problem_on_an_unmigrated_database(tmp_path):
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "database not ready" in response.json["detail"]


def test_every_response_carries_a_request_id_that_problems_repeat(client):
    response = client.get(
        "/v1/policies/demo-shop/privacy-policy/99", headers={"X-Request-ID": "trace-abc-123"}
    )
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    assert response.json["request_id"] == "trace-abc-123"


def test_a_malformed_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"
