"""Getting a browser into the self-service preferences page the ways people do, and the set-up
behind them (customers, emailed links) in the live server's database."""

from __future__ import annotations

import re
import uuid
from typing import Any

from consent_service.extensions import db
from consent_service.integrations.identity import convert_identity
from consent_service.messaging.campaigns import preferences_token
from consent_service.models import Identity
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import visitor_link_token
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import running_sink
from tests.integration.test_notifications_sink import send_due

SIGN_IN = "Sign in to your privacy choices"
SIGN_IN_LINK = re.compile(r"https?://\S+/preferences/sign-in\?token=[\w.\-]+")


def secret_key(live_server: Any) -> str:
    key: str = live_server.app.extensions["consent_settings"].secret_key
    return key


def new_customer(live_server: Any) -> tuple[uuid.UUID, str, str]:
    """A committed demo-shop customer with an email: (identity id, email, customer ref)."""
    suffix = uuid.uuid4().hex[:8]
    email = f"customer-{suffix}@example.com"
    with live_server.app.app_context():
        identity = add_customer(live_server.app, db.session(), email)
        identity.customer_ref = f"c-{suffix}"
        convert_identity(live_server.app.extensions["vault"], identity, now=utcnow())
        db.session.commit()
        found = (identity.id, email, f"c-{suffix}")
        db.session.remove()
    return found


def customer_row(live_server: Any, identity_id: uuid.UUID) -> Identity:
    """The customer's row as stored now (detached: read its columns only)."""
    with live_server.app.app_context():
        identity = db.session.get(Identity, identity_id)
        assert identity is not None
        db.session.expunge(identity)
        db.session.remove()
    return identity


def open_as_visitor(page: Any, live_server: Any, visitor_id: str) -> None:
    """Signs the browser in through a visitor link (what the widget's "Manage" link opens)."""
    with live_server.app.app_context():
        property_id = get_property(db.session(), "demo-shop").id
        db.session.remove()
    token = visitor_link_token(secret_key(live_server), property_id, uuid.UUID(visitor_id))
    page.goto(f"{live_server.url}/preferences/visit?token={token}")
    page.wait_for_url(f"{live_server.url}/preferences/")


def open_as_customer(page: Any, live_server: Any, identity_id: uuid.UUID) -> None:
    """Signs the browser in through the link in a policy-change email."""
    token = preferences_token(secret_key(live_server), identity_id)
    page.goto(f"{live_server.url}/preferences/?token={token}")
    page.wait_for_url(f"{live_server.url}/preferences/")


def request_sign_in_link(page: Any, live_server: Any, email: str) -> None:
    """Asks for a magic link on the sign-in page, as a customer would."""
    page.goto(f"{live_server.url}/preferences/?property=demo-shop")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("status").filter(has_text="a sign-in link is on its way").wait_for()


def emailed_sign_in_link(live_server: Any, email: str) -> str:
    """Runs the email worker into a real SMTP sink; the sign-in URL of the one message that
    reached ``email``."""
    with running_sink() as (sink, port), live_server.app.app_context():
        send_due(live_server.app, db.session(), port)
        db.session.remove()
        messages = sink.to(email)
    assert len(messages) == 1, [m["Subject"] for m in sink.messages]
    text = messages[0].get_body(preferencelist=("plain",)).get_content()
    found = SIGN_IN_LINK.findall(text)
    assert found, text
    link: str = found[0]
    assert link.startswith(f"{live_server.url}/preferences/sign-in?token=")
    return link


def follow_sign_in_link(page: Any, live_server: Any, link: str) -> None:
    """Opens an emailed link and presses its button (opening alone signs nobody in)."""
    page.goto(link)
    page.get_by_role("button", name=SIGN_IN).click()
    page.wait_for_url(f"{live_server.url}/preferences/")


def confirm_by_email(page: Any, live_server: Any, email: str) -> None:
    """What a session from a (long-lived, forwardable) notice link must do before exporting
    or erasing: ask for a fresh link to the customer's own address, and use it."""
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("status").filter(has_text="A sign-in link is on its way").wait_for()
    follow_sign_in_link(page, live_server, emailed_sign_in_link(live_server, email))
