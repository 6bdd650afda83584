"""The widget's per-visitor endpoints: what the service holds as the visitor's current choice
(``GET /v1/visitors/<id>/choice``), and a sign-in link to the self-service preferences page
(``POST /v1/preferences/link``).

Both are public like the rest of the widget's: the random visitor id from the shop's
first-party cookie is the proof, and a browser may call them only from an origin the
property lists (or the service's own pages). Neither answer may be cached anywhere.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.api.schemas import PreferencesLinkRequestSchema
from consent_service.consent.visitor_choice import ChoiceStatus
from consent_service.consent.visitor_choice import WidgetProperty
from consent_service.consent.visitor_choice import current_choice
from consent_service.consent.visitor_choice import widget_property
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.infra.times import rfc3339_millis
from consent_service.self_service.access import LINK_LIFETIME
from consent_service.self_service.access import visitor_link_token
from consent_service.web.cors import answer_page
from consent_service.web.cors import check_page_origin
from consent_service.web.cors import preflight
from consent_service.web.request_body import load_json
from consent_service.web.request_body import property_query

PREFERENCES_VISIT = "/preferences/visit"
_link_schema = PreferencesLinkRequestSchema()


@bp.get("/v1/visitors/<uuid:visitor_id>/choice")
def get_visitor_choice(visitor_id: uuid.UUID) -> Response:
    return _answer(lambda origin: _choice(origin, visitor_id))


@bp.post("/v1/preferences/link", provide_automatic_options=False)
def preferences_link() -> Response:
    return _answer(_link)


@bp.route("/v1/preferences/link", methods=["OPTIONS"])
def preferences_link_preflight() -> Response:
    return preflight("POST", "ask for preferences links")


def _answer(respond: Callable[[str | None], Response]) -> Response:
    """Never cached, refusals included."""
    response = answer_page(respond)
    response.headers["Cache-Control"] = "no-store"
    return response


def _choice(origin: str | None, visitor_id: uuid.UUID) -> Response:
    property_key = property_query()
    session = current_session()
    prop = _allowed_property(property_key, origin)
    choice = current_choice(session, prop.id, visitor_id)
    body: dict[str, object] = {"status": choice.status.value}
    if choice.status is ChoiceStatus.RECORDED and choice.receipt is not None:
        receipt = choice.receipt
        body |= {
            "receipt_id": str(receipt.receipt_id),
            "issued_at": rfc3339_millis(receipt.issued_at),
            "policy_version": receipt.policy_version,
            "decisions": dict(receipt.decisions),
        }
    return jsonify(body)


def _link(origin: str | None) -> Response:
    body = load_json(_link_schema)
    prop = _allowed_property(body["property"], origin)
    token = visitor_link_token(settings().secret_key, prop.id, body["visitor_id"])
    url = f"{settings().base_url.rstrip('/')}{PREFERENCES_VISIT}?" + urllib.parse.urlencode(
        {"token": token}
    )
    return jsonify({"url": url, "expires_in": int(LINK_LIFETIME.total_seconds())})


def _allowed_property(property_key: str, origin: str | None) -> WidgetProperty:
    """The property, if a browser at ``origin`` (None: not a browser) may ask about it."""
    prop = widget_property(current_session(), property_key)
    check_page_origin(origin, prop.allowed_origins, property_key)
    return prop
