"""Signing in to the preferences page the ways people do, for integration tests."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from consent_service.messaging.campaigns import magic_link_token
from consent_service.messaging.campaigns import preferences_token
from consent_service.messaging.webhooks import register_endpoint
from consent_service.models import MagicLink
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import Access
from consent_service.self_service.access import request_magic_link
from consent_service.self_service.access import visitor_link_token
from consent_service.self_service.erasure import erase
from tests.integration.test_notifications_sink import add_customer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_visitor(app: Flask, client: FlaskClient, property_id: int, visitor: uuid.UUID):
    token = visitor_link_token(app.extensions["consent_settings"].secret_key, property_id, visitor)
    return client.get(f"/preferences/visit?token={token}")


def sign_in_customer(app: Flask, client: FlaskClient, identity_id: uuid.UUID):
    """Through the signed link every policy-change email carries."""
    token = preferences_token(app.extensions["consent_settings"].secret_key, identity_id)
    return client.get(f"/preferences/?token={token}")


def csrf_of(client: FlaskClient, path: str = "/preferences/") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no form on {path}"
    return match.group(1)


def sign_in_by_magic_link(app: Flask, client: FlaskClient, session, email: str):
    """As a customer who asked for a link and pressed its button (the strongest sign-in)."""
    prop = get_property(session, "demo-shop")
    now = utcnow()
    assert request_magic_link(
        session, app.extensions["vault"], prop.id, email, locale=None, now=now
    )
    link_id = session.scalar(sa.select(MagicLink.id).order_by(MagicLink.created_at.desc()))
    session.commit()
    token = magic_link_token(app.extensions["consent_settings"].secret_key, link_id)
    csrf = csrf_of(client, f"/preferences/sign-in?token={token}")
    return client.post("/preferences/sign-in", data={"token": token, "csrf_token": csrf})


def erase_now(app: Flask, session, access: Access):
    """Erase the person ``access`` names through the domain, committed; the Erasure."""
    done = erase(
        session,
        access,
        issuer=app.extensions["receipt_issuer"],
        vault=app.extensions["vault"],
        network=None,
        request_id=None,
        now=utcnow(),
    )
    session.commit()
    return done


def listening(app: Flask, session, *event_types: str) -> None:
    """A webhook endpoint of the demo shop subscribed to ``event_types`` (nothing delivers
    it here: tests read the outbox)."""
    register_endpoint(
        session,
        app.extensions["vault"].cipher,
        property_id=get_property(session, "demo-shop").id,
        url="https://hooks.example.com/consent",
        event_types=list(event_types),
    )


def new_customer(app: Flask, session, email: str | None = None):
    """A committed customer of the demo shop with a fresh address (rate limits outlive
    tests' rolled-back data)."""
    identity = add_customer(app, session, email or f"c-{uuid.uuid4().hex[:8]}@example.com")
    session.commit()
    return identity


def customer_via_notice_link(app: Flask, client: FlaskClient, session):
    """A new customer, signed in by the link in a policy-change email."""
    identity = new_customer(app, session)
    sign_in_customer(app, client, identity.id)
    return identity
