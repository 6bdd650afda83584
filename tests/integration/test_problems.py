"""Errors leave as RFC 9457 problem details, each type documented, never with internals."""

from __future__ import annotations

import pytest
from flask import Flask

from consent_service import create_app
from consent_service.errors import InternalError
from consent_service.errors import problem_types
from consent_service.infra.pii import UndecryptableData
from consent_service.self_service.access import SignInRefused
from consent_service.staff.accounts import AdminAccountError
from tests.support import make_settings


def test_a_routing_404_is_a_problem(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "about:blank"


def test_a_wrong_method_is_a_405_problem_with_allow(client):
    response = client.get("/v1/consents")
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("code", sorted(problem_types()))
def test_every_problem_type_is_documented_at_its_url(client, code):
    response = client.get(f"/problems/{code}")
    assert response.status_code == 200
    assert response.json["description"]


@pytest.fixture
def failing_app(tmp_path) -> Flask:
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"))
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/v1/boom")
    def boom():
        raise RuntimeError("secret connection string postgres://user:hunter2@db")

    return app


def test_an_unexpected_error_is_an_opaque_500_problem(failing_app, caplog):
    response = failing_app.test_client().get("/v1/boom")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert "hunter2" not in response.get_data(as_text=True)
    assert "hunter2" in caplog.text  # the operator still sees what happened


def test_an_internal_domain_error_is_an_opaque_500_problem(tmp_path, caplog):
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"))
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/v1/unreadable")
    def unreadable():
        raise UndecryptableData("no data key 'k-secret-2019' is configured")

    response = app.test_client().get("/v1/unreadable")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert "k-secret-2019" not in response.get_data(as_text=True)
    assert "k-secret-2019" in caplog.text


def test_errors_no_client_receives_as_problems_are_not_documented_types():
    undocumented = {InternalError, UndecryptableData, AdminAccountError, SignInRefused}
    assert not {kind.code for kind in undocumented} & set(problem_types())


def test_a_problems_instance_is_a_percent_encoded_uri_reference(client):
    response = client.get("/problems/%C3%A9%20x")
    assert response.json["instance"] == "/problems/%C3%A9%20x"


def test_a_property_key_with_a_trailing_newline_is_not_a_slug(client):
    response = client.get("/v1/banner", query_string={"property": "demo-shop\n"})
    assert response.status_code in (400, 422)
