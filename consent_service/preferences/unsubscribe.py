"""One-click unsubscribe (RFC 8058) from the lists customers are emailed on.

``POST /v1/email/unsubscribe?token=...`` is what mail clients send (body
``List-Unsubscribe=One-Click``, no cookies, no auth): it unsubscribes and answers 200, never a
redirect. ``GET`` of the same URL only shows a page with a button that POSTs: link scanners
prefetch URLs in mail, and a prefetch must not unsubscribe anyone. Both pages are the
preferences page's own (localized), with a way on to every other choice.
"""

from __future__ import annotations

import uuid

from flask import request
from werkzeug.wrappers import Response

from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import settings
from consent_service.messaging.campaigns import set_subscription
from consent_service.messaging.campaigns import verify_unsubscribe_token
from consent_service.models import Identity
from consent_service.models import Property
from consent_service.models.base import utcnow
from consent_service.preferences import bp
from consent_service.preferences.view import page_locale
from consent_service.preferences.view import render
from consent_service.preferences.view import texts

UNSUBSCRIBE_URL = "/v1/email/unsubscribe"


def _verified() -> tuple[uuid.UUID, str]:
    return verify_unsubscribe_token(settings().secret_key, request.args.get("token", ""))


def _page(identity_id: uuid.UUID, list_key: str, *, done: bool) -> Response:
    prop = current_session().scalar(
        db.select(Property)
        .join(Identity, Identity.property_id == Property.id)
        .where(Identity.id == identity_id)
    )
    t = texts(page_locale())
    return render(
        "unsubscribe.html",
        done=done,
        list_name=t.get(f"list_{list_key}", list_key),
        action=f"{UNSUBSCRIBE_URL}?token={request.args.get('token', '')}",
        property_key=prop.key if prop else None,
        property_name=prop.name if prop else None,
    )


@bp.get(UNSUBSCRIBE_URL)
def unsubscribe_page() -> Response:
    """Confirmation page; changes nothing."""
    identity_id, list_key = _verified()
    return _page(identity_id, list_key, done=False)


@bp.post(UNSUBSCRIBE_URL)
def unsubscribe_one_click() -> Response:
    """RFC 8058 one-click: the signed token is the only credential."""
    identity_id, list_key = _verified()
    with committed() as session:
        set_subscription(
            session, identity_id, list_key, subscribed=False, source="one-click", now=utcnow()
        )
    return _page(identity_id, list_key, done=True)
