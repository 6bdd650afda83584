"""The preferences page's sessions are server-side records: signing out and being erased end
every copy of the cookie, and the idle and absolute limits hold (an injected clock)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from consent_service.integrations.identity import email_of
from consent_service.models import WebSession
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import SESSION_IDLE
from consent_service.self_service.access import SESSION_LIFETIME
from tests.integration.preferences_support import csrf_of
from tests.integration.preferences_support import new_customer
from tests.integration.preferences_support import sign_in_by_magic_link
from tests.integration.preferences_support import sign_in_visitor

SIGNED_IN = 'Your privacy choices <span class="sub">'


def cookie_of(client) -> str:
    return client.get_cookie("consent_preferences", path="/preferences").value


def with_cookie(app, cookie: str):
    other = app.test_client()
    other.set_cookie("consent_preferences", cookie, path="/preferences")
    return other


def signed_in_customer(app, client, session):
    identity = new_customer(app, session)
    sign_in_by_magic_link(app, client, session, identity_email(app, identity))
    return identity


def identity_email(app, identity) -> str:
    return email_of(app.extensions["vault"], identity)


def test_a_cookie_copied_before_sign_out_downloads_nothing_afterwards(app, client, session):
    signed_in_customer(app, client, session)
    copied = cookie_of(client)
    assert client.get("/preferences/export.json").status_code == 200
    client.post("/preferences/sign-out", data={"csrf_token": csrf_of(client)})

    response = with_cookie(app, copied).get("/preferences/export.json")
    assert response.status_code == 401
    assert "Your session has ended" in response.get_data(as_text=True)


def test_the_cookie_is_a_token_the_table_keeps_only_the_hash_of(app, client, session):
    identity = signed_in_customer(app, client, session)
    ids = session.scalars(sa.select(WebSession.id).where(WebSession.identity_id == identity.id))
    assert cookie_of(client) not in set(ids)
    assert identity.id.hex not in cookie_of(client)


def test_erasure_ends_the_persons_sessions_in_every_browser(app, client, session, record):
    visitor = uuid.uuid4()
    record(visitor, "accept_all")
    session.commit()
    property_id = get_property(session, "demo-shop").id
    sign_in_visitor(app, client, property_id, visitor)
    elsewhere = app.test_client()
    sign_in_visitor(app, elsewhere, property_id, visitor)
    assert SIGNED_IN in elsewhere.get("/preferences/").get_data(as_text=True)

    client.post("/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"})
    assert elsewhere.get("/preferences/receipts.json").status_code == 401
    assert SIGNED_IN not in elsewhere.get("/preferences/").get_data(as_text=True)


def test_an_idle_session_ends(app, client, session, session_clock):
    signed_in_customer(app, client, session)
    session_clock.advance(seconds=SESSION_IDLE.total_seconds() + 1)
    assert client.get("/preferences/export.json").status_code == 401


def test_activity_keeps_a_session_alive_until_its_absolute_limit(
    app, client, session, session_clock
):
    signed_in_customer(app, client, session)
    step = SESSION_IDLE - SESSION_IDLE / 10
    elapsed = step
    while elapsed < SESSION_LIFETIME:
        session_clock.advance(seconds=step.total_seconds())
        assert client.get("/preferences/export.json").status_code == 200
        elapsed += step
    session_clock.advance(seconds=(SESSION_LIFETIME - (elapsed - step)).total_seconds() + 1)
    assert client.get("/preferences/export.json").status_code == 401
