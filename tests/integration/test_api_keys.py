"""API keys: scoped, bound to one property, stored as a hash, refused once revoked."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from consent_service.errors import InvalidCredentials
from consent_service.errors import ValidationFailed
from consent_service.integrations.api_keys import authenticate
from consent_service.integrations.api_keys import create_api_key
from consent_service.integrations.api_keys import revoke_api_key
from consent_service.models import ApiKey

LOOKUP = {"subject": "customer:c-1", "purpose": "marketing"}


def test_a_key_is_shown_once_with_a_recognisable_prefix_and_stored_only_as_a_hash(session):
    issued = create_api_key(session, "demo-shop", name="orders", scopes=["consent:read"])
    prefix = f"csk_{issued.key.public_id}_"
    assert issued.plaintext.startswith(prefix)
    secret = issued.plaintext.removeprefix(prefix)
    row = session.scalar(sa.select(ApiKey).where(ApiKey.id == issued.key.id))
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.__dict__)


def test_creating_a_key_with_an_unknown_scope_is_refused_with_a_pointer(session):
    with pytest.raises(ValidationFailed) as refused:
        create_api_key(session, "demo-shop", name="x", scopes=["consent:everything"])
    assert refused.value.errors[0].pointer == "/scopes"


def test_a_request_without_a_key_is_401_with_a_bearer_challenge(client):
    response = client.get("/v1/decisions", query_string=LOOKUP)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer csk_000000000000_" + "A" * 43],
)
def test_a_malformed_or_unknown_key_is_401(client, header):
    response = client.get("/v1/decisions", query_string=LOOKUP, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["type"].endswith("/problems/invalid-credentials")


def test_a_key_with_a_wrong_secret_is_401(client, api_key):
    headers = api_key("consent:read")
    forged = headers["Authorization"][:-4] + "AAAA"
    response = client.get("/v1/decisions", query_string=LOOKUP, headers={"Authorization": forged})
    assert response.status_code == 401


def test_a_revoked_key_is_401(client, session, api_key):
    headers = api_key("consent:read")
    public_id = headers["Authorization"].split("_", 2)[1]
    revoke_api_key(session, public_id)
    session.commit()
    response = client.get("/v1/decisions", query_string=LOOKUP, headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json["detail"]


def test_a_key_without_the_scope_is_403(client, api_key):
    response = client.get("/v1/decisions", query_string=LOOKUP, headers=api_key("subjects:write"))
    assert response.status_code == 403
    assert response.json["type"].endswith("/problems/insufficient-scope")


def test_using_a_key_records_when_it_was_last_used(client, session, api_key):
    headers = api_key("consent:read")
    public_id = headers["Authorization"].split("_", 2)[1]
    client.get("/v1/decisions", query_string=LOOKUP, headers=headers)
    used = session.scalar(sa.select(ApiKey.last_used_at).where(ApiKey.public_id == public_id))
    assert used is not None


def test_authentication_does_not_say_whether_the_public_id_exists(session):
    issued = create_api_key(session, "demo-shop", name="x", scopes=["consent:read"])
    with pytest.raises(InvalidCredentials) as wrong_secret:
        authenticate(session, issued.plaintext[:-1] + ("B" if issued.plaintext[-1] != "B" else "C"))
    with pytest.raises(InvalidCredentials) as unknown:
        authenticate(session, "csk_ffffffffffff_" + "A" * 43)
    assert wrong_secret.value.detail == unknown.value.detail
