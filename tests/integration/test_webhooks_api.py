"""``/v1/webhooks``: a property's endpoints, managed with a ``webhooks:manage`` API key."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.integrations.api_keys import create_api_key
from consent_service.messaging.webhooks import endpoint_secret
from consent_service.models import Property
from consent_service.models import WebhookEndpoint
from tests.webhook_receiver import register

URL = "https://hooks.example.com/consent"
PROBLEM = "application/problem+json"


@pytest.fixture
def auth(session):
    """``auth(*scopes)``: Authorization headers of a fresh demo-shop key."""

    def _auth(*scopes: str) -> dict[str, str]:
        issued = create_api_key(
            session, "demo-shop", name="webhook tests", scopes=scopes or ["webhooks:manage"]
        )
        session.commit()
        return {"Authorization": f"Bearer {issued.plaintext}"}

    return _auth


def _create(client, headers, **body):
    return client.post(
        "/v1/webhooks",
        json={"url": URL, "event_types": ["consent.changed"], **body},
        headers=headers,
    )


def _pointers(response) -> list[str]:
    return [e["pointer"] for e in response.json.get("errors", [])]


def test_creating_an_endpoint_answers_201_with_its_secret_once(app, client, session, auth):
    response = _create(client, auth(), description="CRM sync")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["url"] == URL
    assert body["event_types"] == ["consent.changed"]
    assert body["description"] == "CRM sync"
    assert body["secret"].startswith("whsec_")
    assert response.headers["Cache-Control"] == "no-store"
    stored = session.get(WebhookEndpoint, uuid.UUID(body["id"]))
    assert body["secret"].encode() not in stored.secret_ciphertext
    cipher = app.extensions["vault"].cipher
    assert endpoint_secret(cipher, stored.id, stored.secret_ciphertext) == body["secret"]


def test_listing_shows_the_propertys_endpoints_never_a_secret(client, auth):
    headers = auth()
    created = _create(client, headers).json
    response = client.get("/v1/webhooks", headers=headers)
    assert response.status_code == 200
    (listed,) = response.json["webhooks"]
    assert listed["id"] == created["id"]
    assert listed["disabled_at"] is None
    assert listed["deliveries"] == {}
    assert "secret" not in listed and "whsec_" not in response.get_data(as_text=True)


def test_deleting_answers_204_and_disables_the_endpoint(client, auth):
    headers = auth()
    created = _create(client, headers).json
    response = client.delete(f"/v1/webhooks/{created['id']}", headers=headers)
    assert response.status_code == 204
    (listed,) = client.get("/v1/webhooks", headers=headers).json["webhooks"]
    assert listed["disabled_at"] is not None
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=headers).status_code == 204


def test_another_propertys_endpoint_is_as_unknown_as_a_missing_one(app, client, session, auth):
    other = Property(key="other-shop", name="Other shop")
    session.add(other)
    session.flush()
    theirs = register(app, session, URL, property_key="other-shop").endpoint
    session.commit()
    headers = auth()
    for endpoint_id in (theirs.id, uuid.uuid4()):
        response = client.delete(f"/v1/webhooks/{endpoint_id}", headers=headers)
        assert response.status_code == 404
        assert response.content_type == PROBLEM
        assert response.json["type"].endswith("/problems/unknown-webhook-endpoint")
    assert client.get("/v1/webhooks", headers=headers).json["webhooks"] == []
    session.expire_all()
    assert session.get(WebhookEndpoint, theirs.id).disabled_at is None


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "not a url", "https://user:pw@hooks.example.com/"]
)
def test_a_bad_url_is_a_422_pointing_at_url(client, auth, url):
    response = _create(client, auth(), url=url)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert _pointers(response) == ["/url"]


def test_an_unknown_event_type_is_a_422_pointing_at_it(client, auth):
    response = _create(client, auth(), event_types=["consent.changed", "consent.exploded"])
    assert response.status_code == 422
    assert _pointers(response) == ["/event_types/1"]


def test_no_event_types_is_a_422(client, auth):
    response = _create(client, auth(), event_types=[])
    assert response.status_code == 422
    assert _pointers(response) == ["/event_types"]


def test_unknown_and_mistyped_fields_are_refused(client, auth):
    response = _create(client, auth(), url=42, secret="whsec_mine")
    assert response.status_code == 422
    assert sorted(_pointers(response)) == ["/secret", "/url"]


def test_a_key_without_the_webhooks_scope_gets_403(client, auth):
    response = client.get("/v1/webhooks", headers=auth("consent:read"))
    assert response.status_code == 403
    assert response.content_type == PROBLEM
    assert response.json["type"].endswith("/problems/insufficient-scope")


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/v1/webhooks"), ("post", "/v1/webhooks"), ("delete", f"/v1/webhooks/{uuid.uuid4()}")],
)
def test_no_key_gets_401(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_created_endpoint_receives_the_next_consent(client, session, auth, consent_body):
    from consent_service.models import OutboxMessage

    created = _create(client, auth()).json
    assert client.post("/v1/consents", json=consent_body).status_code == 201
    endpoint_ids = session.scalars(sa.select(OutboxMessage.endpoint_id)).all()
    assert [str(e) for e in endpoint_ids] == [created["id"]]
