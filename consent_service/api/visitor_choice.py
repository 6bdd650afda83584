"""The widget's per-visitor endpoints: what the service holds as the visitor's current choice
(``GET /v1/visitors/<id>/choice``), and a sign-in link to the self-service preferences page
(``POST /v1/preferences/link``).

Both are public like the rest of the widget's: the random visitor id from the shop's
first-party cookie is the proof, and a browser may call them only from an origin the
property lists (or the service's own pages). Neither answer may be cached anywhere.
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Callable
from http import HTTPStatus

from flask import Response
from flask import jsonify
from flask import request

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.response_schemas import VISITOR_CHOICE
from consent_service.api.response_schemas import PreferencesLinkSchema
from consent_service.api.schemas import PreferencesLinkRequestSchema
from consent_service.consent.tokens import TokenBasis
from consent_service.consent.visitor_choice import ChoiceStatus
from consent_service.consent.visitor_choice import WidgetProperty
from consent_service.consent.visitor_choice import current_choice
from consent_service.consent.visitor_choice import widget_property
from consent_service.decisions.tokens import issue_token
from consent_service.errors import FieldError
from consent_service.errors import OriginNotAllowed
from consent_service.errors import UnknownProperty
from consent_service.errors import ValidationFailed
from consent_service.extensions import context_cache
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import token_issuer
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
_link_answer = PreferencesLinkSchema()
ORIGIN = doc.origin("the answer is 403 `origin-not-allowed`.")
UUID_TEXT = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
TOKEN_QUERY = doc.query(
    "token",
    "Ask for a consent token: empty for a new one, or the `receipt_id` of the token the "
    "widget holds (with a good part of its life left), for a new one only when the "
    "visitor's latest receipt is another. Without it, no token.",
    "",
    pattern=f"^({UUID_TEXT})?$",
)
SEC_GPC = doc.header_parameter(
    "Sec-GPC", "`1`: the browser sends Global Privacy Control; a token then says so.", "1"
)


@bp.get("/v1/visitors/<uuid:visitor_id>/choice")
@doc.operation(
    "getVisitorChoice",
    "Widget",
    path={"visitor_id": doc.VISITOR_ID},
    parameters=[doc.PROPERTY_QUERY, TOKEN_QUERY, ORIGIN, SEC_GPC],
    responses={
        200: doc.Answer("The current choice.", VISITOR_CHOICE, headers=doc.WIDGET_ANSWER_HEADERS)
    },
    raises=(ValidationFailed, OriginNotAllowed, UnknownProperty, HTTPStatus.NOT_FOUND),
)
def get_visitor_choice(visitor_id: uuid.UUID) -> Response:
    """What the service holds as the visitor's current choice

    The widget asks on each page where its cookie holds a choice, so that a withdrawal on the
    preferences page or a consent the shop's backend recorded for the customer reaches the
    shop's pages: a different `receipt_id` replaces the cookie's choice, `erased` deletes it.
    With `token`, the answer carries a fresh consent token when the widget's is missing, near
    its end or resting on an older receipt. The random visitor id is the only proof, as for
    recording consent. Never cached.
    """
    return _answer(lambda origin: _choice(origin, visitor_id))


@bp.post("/v1/preferences/link", provide_automatic_options=False)
@doc.operation(
    "createPreferencesLink",
    "Widget",
    parameters=[ORIGIN],
    body=doc.Body(PreferencesLinkRequestSchema, "The visitor."),
    responses={
        200: doc.Answer("The link.", PreferencesLinkSchema, headers=doc.WIDGET_ANSWER_HEADERS)
    },
    raises=(OriginNotAllowed, UnknownProperty),
)
def preferences_link() -> Response:
    """A sign-in link to the self-service preferences page

    Called by the widget's preferences layer for a visitor with a stored choice: the link
    opens the service's preferences page signed in as that browser, where every choice, its
    receipts and the person's data can be seen and changed. Valid for `expires_in` seconds; a
    fresh one is made on each call, nothing is stored.
    """
    return _answer(_link)


@bp.route("/v1/preferences/link", methods=["OPTIONS"])
@doc.preflight_operation("preflightPreferencesLink", "asking for preferences links")
def preferences_link_preflight() -> Response:
    return preflight("POST", "ask for preferences links")


def _answer(respond: Callable[[str | None], Response]) -> Response:
    """Never cached, refusals included."""
    response = answer_page(respond)
    response.headers["Cache-Control"] = "no-store"
    return response


def _choice(origin: str | None, visitor_id: uuid.UUID) -> Response:
    property_key = property_query()
    held = _token_query()
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
        if held is not None and held != str(receipt.receipt_id):
            body["token"] = issue_token(
                session,
                context_cache(),
                token_issuer(),
                property_key=property_key,
                visitor_id=visitor_id,
                basis=TokenBasis.of_latest(receipt),
                live_gpc="1" in request.headers.getlist("Sec-GPC"),
            )
    return jsonify(body)


def _token_query() -> str | None:
    """``?token=``: None (no token wanted), "" (a new one) or the receipt id the widget's
    token rests on, in canonical (lower-case) form."""
    held = request.args.get("token")
    if held and not re.fullmatch(UUID_TEXT, held):
        raise ValidationFailed(
            "the 'token' query parameter is empty (for a new token) or the receipt id of the "
            "token the widget holds",
            errors=[FieldError("/token", "empty, or a receipt id (UUID)")],
        )
    return held.lower() if held else held


def _link(origin: str | None) -> Response:
    body = load_json(_link_schema)
    prop = _allowed_property(body["property"], origin)
    token = visitor_link_token(settings().secret_key, prop.id, body["visitor_id"])
    url = f"{settings().base_url.rstrip('/')}{PREFERENCES_VISIT}?" + urllib.parse.urlencode(
        {"token": token}
    )
    link = {"url": url, "expires_in": int(LINK_LIFETIME.total_seconds())}
    return jsonify(_link_answer.dump(link))


def _allowed_property(property_key: str, origin: str | None) -> WidgetProperty:
    """The property, if a browser at ``origin`` (None: not a browser) may ask about it."""
    prop = widget_property(current_session(), property_key)
    check_page_origin(origin, prop.allowed_origins, property_key)
    return prop
