"""One-click unsubscribe (RFC 8058) from policy-change notices.

``POST /v1/email/unsubscribe?token=...`` is what mail clients send (body
``List-Unsubscribe=One-Click``, no cookies, no auth): it unsubscribes and answers 200, never a
redirect. ``GET`` of the same URL only shows a page with a button that POSTs: link scanners
prefetch URLs in mail, and a prefetch must not unsubscribe anyone.
"""

from __future__ import annotations

import uuid

from flask import Response
from flask import current_app
from flask import request
from markupsafe import escape

from consent_service.api import bp
from consent_service.errors import InvalidUnsubscribeLink
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.models.base import utcnow
from consent_service.notifications import InvalidLinkToken
from consent_service.notifications import set_subscription
from consent_service.notifications import verify_unsubscribe_token

UNSUBSCRIBE_URL = "/v1/email/unsubscribe"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; line-height: 1.5">
<h1 style="font-size: 1.3em">{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str) -> Response:
    response = Response(_PAGE.format(title=escape(title), body=body), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL carries the token
    return response


def _verified() -> tuple[uuid.UUID, str]:
    try:
        return verify_unsubscribe_token(
            current_app.extensions["consent_settings"].secret_key, request.args.get("token", "")
        )
    except InvalidLinkToken as exc:
        raise InvalidUnsubscribeLink(str(exc)) from None


@bp.get(UNSUBSCRIBE_URL)
def unsubscribe_page() -> Response:
    """Confirmation page; changes nothing."""
    _verified()
    token = escape(request.args.get("token", ""))
    form = (
        f'<form method="post" action="{UNSUBSCRIBE_URL}?token={token}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<p>Stop receiving emails about changes to our privacy policy?</p>"
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page("Unsubscribe from policy notices", form)


@bp.post(UNSUBSCRIBE_URL)
def unsubscribe_one_click() -> Response:
    """RFC 8058 one-click: the signed token is the only credential."""
    identity_id, list_key = _verified()
    set_subscription(
        current_session(),
        identity_id,
        list_key,
        subscribed=False,
        source="one-click",
        now=utcnow(),
    )
    db.session.commit()
    return _page("You are unsubscribed", "<p>You will no longer receive policy notices.</p>")
