"""``GET /demo/``: a fictional shop that embeds the widget with its one tag, under a strict
Content Security Policy, with stand-in analytics and ad tags that only run with consent."""

from __future__ import annotations

import re
import uuid

from flask import Response
from flask import abort
from flask import render_template
from flask import request

from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.infra.urls import origin_of
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import create_identity_secret
from consent_service.integrations.identity import live_identity_secrets
from consent_service.integrations.identity import sign_identity_token
from consent_service.integrations.identity import valid_customer_ref
from consent_service.properties.lookup import get_property
from widget import bp

# What a careful shop would send: no inline script or style, nothing from anywhere but itself
# and the consent service. The widget must work under it, so the demo proves it does.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' {service}",
        "style-src 'self' {service}",
        "img-src 'self' data:",
        "connect-src 'self' {service}",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DEMO_PROPERTY = "demo-shop"
DEMO_COOKIE = "nw_consent"  # the template's data-cookie
REGIONS = ("FR", "DE", "GB", "US-CA", "US-TX", "CH")
LANGUAGES = ("en", "de", "fr")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


@bp.get("/demo/")
def demo_shop() -> Response:
    if settings().is_production:
        abort(404)  # a demo, not part of a production deployment
    # The tag points at the service's public URL, as on a real shop: opened under another
    # origin (http://localhost:8000 when the service says 127.0.0.1), the embed is cross-origin.
    service = settings().base_url.rstrip("/")
    lang = request.args.get("lang", "en")
    html = render_template(
        "widget/demo.html",
        widget_src=f"{service}/v1/widget.js",
        stub_src=f"{service}/v1/stub.js?property={DEMO_PROPERTY}",
        property_key=DEMO_PROPERTY,
        lang=lang if _LANGUAGE.match(lang) else "en",
        region=request.args.get("region"),
        **_signed_in_customer(request.args.get("customer")),
        regions=REGIONS,
        languages=LANGUAGES,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        service=origin_of(service)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in_customer(customer: str | None) -> dict[str, str]:
    """What a shop's backend puts on a signed-in customer's pages (``?customer=`` plays the
    sign-in here): an identity token, signed with the property's identity secret, for the
    widget's visitor id read from its cookie; before the visitor's first choice there is none
    yet, so the backend picks one and hands it to the widget with the token."""
    if not customer or not valid_customer_ref(customer):
        return {}
    session = current_session()
    prop = get_property(session, DEMO_PROPERTY)
    secrets = live_identity_secrets(session, vault(), prop.id)
    if not secrets:
        secrets = [create_identity_secret(session, vault(), DEMO_PROPERTY)[1]]
        db.session.commit()
    known = _visitor_id_from_cookie(request.cookies.get(DEMO_COOKIE))
    visitor_id = uuid.UUID(known) if known else uuid.uuid4()
    token = sign_identity_token(secrets[-1], DEMO_PROPERTY, visitor_id, Claims(customer, None))
    if known:
        return {"identity_token": token}
    return {"identity_token": token, "visitor_id": str(visitor_id)}


# The widget's cookie starts "1|<visitor id>|". A real shop reads it with the client's
# ``visitor_id_from_cookie``; the demo stands in for that shop inside the server, which must
# not import the client (a separate distribution, see clients/python/).
_WIDGET_COOKIE = re.compile(r"1\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\|")


def _visitor_id_from_cookie(value: str | None) -> str | None:
    found = _WIDGET_COOKIE.match(value or "")
    return found.group(1) if found else None
