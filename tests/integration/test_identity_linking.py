"""A visitor becomes a known customer only on a credential the browser cannot forge."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from flask import current_app

from consent_service.extensions import db
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import create_identity_secret
from consent_service.integrations.identity import customer_ref_of
from consent_service.integrations.identity import email_of
from consent_service.integrations.identity import redeem_identity_token
from consent_service.integrations.identity import revoke_identity_secret
from consent_service.integrations.identity import sign_identity_token
from consent_service.integrations.identity import token_serializer
from consent_service.models import Identity
from consent_service.models import IdentityTokenUse
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.properties.lookup import get_property

SHOP_ORIGIN = "https://shop.northwind.example"


@pytest.fixture
def linker(api_key):
    return api_key("subjects:write")


@pytest.fixture
def identity_secret(app, session):
    _secret_id, secret = create_identity_secret(session, app.extensions["vault"], "demo-shop")
    session.commit()
    return secret


def identify(client, visitor, token, origin=SHOP_ORIGIN, property_key="demo-shop"):
    return client.post(
        "/v1/identity",
        json={"property": property_key, "visitor_id": str(visitor), "identity_token": token},
        headers={"Origin": origin},
    )


def ref_of(identity: Identity | None) -> str | None:
    assert identity is not None
    return customer_ref_of(current_app.extensions["vault"], identity)


def idx(ref: str) -> str:
    """The customer reference's blind index on the demo shop (property 1 in every suite)."""
    prop = get_property(db.session(), "demo-shop")
    return str(current_app.extensions["vault"].customer_index(prop.id, ref))


def identity_of(session, visitor) -> Identity | None:
    return session.scalar(
        sa.select(Identity)
        .join(Subject, Subject.identity_id == Identity.id)
        .where(Subject.visitor_id == visitor)
    )


def test_the_api_links_a_visitor_to_a_customer(client, session, linker):
    visitor = uuid.uuid4()
    response = client.post(
        "/v1/subjects/link",
        json={"visitor_id": str(visitor), "customer": "c-1", "email": "ada@example.com"},
        headers=linker,
    )
    assert response.status_code == 200
    assert response.json["created"] is True
    assert ref_of(identity_of(session, visitor)) == "c-1"


def test_the_email_is_stored_only_encrypted_and_opens_with_the_data_key(
    app, client, session, linker
):
    client.post(
        "/v1/subjects/link",
        json={"customer": "c-2", "email": "Grace@Example.com"},
        headers=linker,
    )
    identity = session.scalar(sa.select(Identity).where(Identity.customer_ref_index == idx("c-2")))
    assert b"grace" not in identity.email_ciphertext.lower()
    assert "grace" not in identity.email_index
    vault = app.extensions["vault"]
    assert email_of(vault, identity) == "grace@example.com"


def test_linking_the_same_customer_again_reuses_the_identity(client, linker):
    first = client.post("/v1/subjects/link", json={"customer": "c-3"}, headers=linker).json
    again = client.post(
        "/v1/subjects/link", json={"customer": "c-3", "email": "c3@example.com"}, headers=linker
    ).json
    assert again["identity_id"] == first["identity_id"]
    assert again["created"] is False


def test_an_email_that_belongs_to_another_customer_is_a_conflict(client, linker):
    client.post(
        "/v1/subjects/link", json={"customer": "c-4", "email": "x@example.com"}, headers=linker
    )
    response = client.post(
        "/v1/subjects/link", json={"customer": "c-5", "email": "x@example.com"}, headers=linker
    )
    assert response.status_code == 409


def test_a_browser_linked_to_one_customer_is_not_silently_moved_to_another(client, session, linker):
    visitor = uuid.uuid4()
    client.post(
        "/v1/subjects/link", json={"visitor_id": str(visitor), "customer": "c-6"}, headers=linker
    )
    response = client.post(
        "/v1/subjects/link", json={"visitor_id": str(visitor), "customer": "c-7"}, headers=linker
    )
    assert response.status_code == 409
    assert ref_of(identity_of(session, visitor)) == "c-6"


def test_a_link_naming_nobody_is_422(client, linker):
    response = client.post(
        "/v1/subjects/link", json={"visitor_id": str(uuid.uuid4())}, headers=linker
    )
    assert response.status_code == 422


def test_a_malformed_email_is_422_with_a_pointer(client, linker):
    response = client.post("/v1/subjects/link", json={"email": "not-an-email"}, headers=linker)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/email"


def test_linking_needs_the_subjects_write_scope(client, api_key):
    response = client.post(
        "/v1/subjects/link", json={"customer": "c-8"}, headers=api_key("consent:read")
    )
    assert response.status_code == 403


def test_a_token_the_shop_backend_signed_links_the_visitor(client, session, identity_secret):
    visitor = uuid.uuid4()
    token = sign_identity_token(
        identity_secret, "demo-shop", visitor, Claims("c-10", "c10@example.com")
    )
    response = identify(client, visitor, token)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert ref_of(identity_of(session, visitor)) == "c-10"


def test_a_forged_token_links_nothing(client, session, identity_secret):
    visitor = uuid.uuid4()
    token = sign_identity_token("cis_guess_" + "x" * 43, "demo-shop", visitor, Claims("c-11", None))
    response = identify(client, visitor, token)
    assert response.status_code == 422
    assert response.json["type"].endswith("/problems/invalid-identity-token")
    assert identity_of(session, visitor) is None


def test_an_expired_token_links_nothing(app, client, session, identity_secret):
    visitor = uuid.uuid4()
    max_age = app.extensions["consent_settings"].identity_token_max_age
    signed_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=max_age + 5)
    token = sign_identity_token(
        identity_secret, "demo-shop", visitor, Claims("c-12", None), signed_at=signed_at
    )
    response = identify(client, visitor, token)
    assert response.status_code == 422
    assert "expired" in response.json["detail"]
    assert identity_of(session, visitor) is None


def test_a_token_made_for_another_property_links_nothing(client, session, identity_secret):
    visitor = uuid.uuid4()
    token = sign_identity_token(identity_secret, "another-shop", visitor, Claims("c-13", None))
    assert identify(client, visitor, token).status_code == 422
    assert identity_of(session, visitor) is None


def test_a_token_signed_with_a_revoked_secret_links_nothing(app, client, session):
    secret_id, secret = create_identity_secret(session, app.extensions["vault"], "demo-shop")
    revoke_identity_secret(session, secret_id)
    session.commit()
    visitor = uuid.uuid4()
    token = sign_identity_token(secret, "demo-shop", visitor, Claims("c-14", None))
    assert identify(client, visitor, token).status_code == 422


def test_a_token_posted_from_a_page_the_property_does_not_list_is_403(
    client, session, identity_secret
):
    visitor = uuid.uuid4()
    token = sign_identity_token(identity_secret, "demo-shop", visitor, Claims("c-15", None))
    response = identify(client, visitor, token, origin="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert identity_of(session, visitor) is None


def test_the_identity_endpoint_answers_preflights_for_listed_origins(client):
    response = client.options(
        "/v1/identity",
        headers={"Origin": SHOP_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN


def used_nonces(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(IdentityTokenUse))


def test_a_token_made_for_one_visitor_links_no_other(client, session, identity_secret):
    intended, other = uuid.uuid4(), uuid.uuid4()
    token = sign_identity_token(identity_secret, "demo-shop", intended, Claims("c-20", None))
    response = identify(client, other, token)
    assert response.status_code == 422
    assert response.json["type"].endswith("/problems/invalid-identity-token")
    assert "another visitor" in response.json["detail"]
    assert identity_of(session, other) is None
    assert (
        session.scalar(sa.select(Identity).where(Identity.customer_ref_index == idx("c-20")))
        is None
    )
    assert identify(client, intended, token).status_code == 204  # still good for its visitor


def test_a_replayed_token_is_refused_and_links_nothing_more(client, session, identity_secret):
    visitor = uuid.uuid4()
    token = sign_identity_token(identity_secret, "demo-shop", visitor, Claims("c-21", None))
    assert identify(client, visitor, token).status_code == 204
    replay = identify(client, visitor, token)
    assert replay.status_code == 422
    assert "already been used" in replay.json["detail"]
    assert used_nonces(session) == 1
    links = session.scalar(
        sa.select(sa.func.count())
        .select_from(Subject)
        .join(Identity, Subject.identity_id == Identity.id)
        .where(Identity.customer_ref_index == idx("c-21"))
    )
    assert links == 1


def test_a_fresh_token_for_the_same_visitor_works_after_one_was_used(
    client, session, identity_secret
):
    visitor = uuid.uuid4()
    for _ in range(2):
        token = sign_identity_token(identity_secret, "demo-shop", visitor, Claims("c-22", None))
        assert identify(client, visitor, token).status_code == 204
    assert ref_of(identity_of(session, visitor)) == "c-22"


@pytest.mark.parametrize(
    ("payload", "missing"),
    [
        ({"p": "demo-shop", "c": "c-23"}, "names no visitor (v) and no nonce (n)"),
        ({"p": "demo-shop", "v": "VISITOR", "c": "c-23"}, "names no nonce (n)"),
    ],
)
def test_an_old_format_token_is_refused_saying_what_it_lacks(
    client, session, identity_secret, payload, missing
):
    visitor = uuid.uuid4()
    payload = {k: str(visitor) if v == "VISITOR" else v for k, v in payload.items()}
    token = token_serializer([identity_secret]).dumps(payload)
    response = identify(client, visitor, token)
    assert response.status_code == 422
    assert response.json["type"].endswith("/problems/invalid-identity-token")
    assert missing in response.json["detail"]
    assert identity_of(session, visitor) is None


def test_a_token_refused_for_a_conflict_is_not_used_up(client, session, identity_secret, linker):
    visitor = uuid.uuid4()
    client.post(
        "/v1/subjects/link", json={"visitor_id": str(visitor), "customer": "c-24"}, headers=linker
    )
    token = sign_identity_token(identity_secret, "demo-shop", visitor, Claims("c-25", None))
    assert identify(client, visitor, token).status_code == 409
    assert used_nonces(session) == 0


def test_used_nonces_are_pruned_once_their_tokens_have_expired(app, session, identity_secret):
    vault = app.extensions["vault"]
    prop_id = session.scalar(sa.select(Property.id).where(Property.key == "demo-shop"))
    max_age = app.extensions["consent_settings"].identity_token_max_age
    visitor = uuid.uuid4()
    signed_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = sign_identity_token(identity_secret, "demo-shop", visitor, Claims("c-26", None))
    redeem_identity_token(session, vault, prop_id, "demo-shop", visitor, first, max_age)
    session.commit()
    assert used_nonces(session) == 1
    later = signed_at + dt.timedelta(seconds=max_age + 60)
    second = sign_identity_token(identity_secret, "demo-shop", visitor, Claims("c-26", None))
    redeem_identity_token(session, vault, prop_id, "demo-shop", visitor, second, max_age, now=later)
    session.commit()
    assert used_nonces(session) == 1  # the first one's row is gone, the second's is kept
