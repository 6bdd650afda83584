"""``POST /v1/consents``: record one act of consent and return its signed receipt.

Widgets post from the shops' own pages, so the route answers CORS preflights for origins a
property lists, and the choice itself is refused (403) unless its property lists the origin.
"""

from __future__ import annotations

from flask import Response
from flask import request

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.recording import receipt_response
from consent_service.api.response_schemas import RecordedConsentSchema
from consent_service.api.schemas import ConsentRequestSchema
from consent_service.consent.receipts import SCAN_SOURCE
from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import ReoptinConfirmationRequired
from consent_service.consent.receipts import record_consent
from consent_service.consent.tokens import TokenBasis
from consent_service.decisions.tokens import issue_token_in
from consent_service.errors import ConcurrentConsentWrite
from consent_service.errors import OriginNotAllowed
from consent_service.errors import PolicyVersionNotCurrent
from consent_service.errors import UnknownPolicy
from consent_service.errors import UnknownProperty
from consent_service.errors import UnknownPurpose
from consent_service.extensions import committed
from consent_service.extensions import context_cache
from consent_service.extensions import receipt_issuer
from consent_service.extensions import token_issuer
from consent_service.infra.network import truncate_ip
from consent_service.web.cors import answer_page
from consent_service.web.cors import preflight
from consent_service.web.request_body import load_json
from consent_service.web.visitor_region import visitor_ip
from consent_service.web.visitor_region import visitor_region

_schema = ConsentRequestSchema()


@bp.post("/v1/consents", provide_automatic_options=False)
@doc.operation(
    "recordConsent",
    "Consents",
    parameters=[
        doc.RECORDING_ORIGIN,
        doc.header_parameter("Sec-GPC", "`1`: the browser sends Global Privacy Control.", "1"),
    ],
    body=doc.Body(
        ConsentRequestSchema,
        "The choice: `decisions` maps purpose keys to true/false; `custom` and `gpc` need one "
        "for every non-essential purpose, blanket methods need none. `acknowledge` (a "
        "notice's OK) records the regime's defaults and only where the first layer offers it; "
        "`gpc` records a Global Privacy Control signal (needs `gpc: true`, or `Sec-GPC: 1`, "
        "where the jurisdiction honours it). Opting back in to sale / sharing after an "
        "opt-out needs `reoptin_confirmed: true` where the banner's jurisdiction says "
        "`reoptin_confirmation`.",
    ),
    responses={
        201: doc.Answer("Recorded.", RecordedConsentSchema, headers=doc.WIDGET_ANSWER_HEADERS)
    },
    raises=(
        UnknownPurpose,
        OriginNotAllowed,
        UnknownProperty,
        UnknownPolicy,
        PolicyVersionNotCurrent,
        ConcurrentConsentWrite,
        ReoptinConfirmationRequired,
    ),
)
def create_consent() -> Response:
    """Record a visitor's choice and get its signed receipt

    Called by the widget from the shop's page. The receipt is a JWS anyone can verify with the
    published keys; it names the exact policy version the visitor saw and chains to the
    subject's previous receipt. The widget also honours the `Sec-GPC: 1` header. The answer
    carries a fresh consent `token` resting on this receipt (a withdrawal's denies at once).
    """
    return answer_page(_record)


def _record(origin: str | None) -> Response:
    body = load_json(_schema)
    located = visitor_region()
    consent = ConsentRequest(
        property_key=body["property"],
        visitor_id=body["visitor_id"],
        policy_version=body["policy_version"],
        method=Method(body["method"]),
        decisions=body["decisions"],
        gpc=body["gpc"] or "1" in request.headers.getlist("Sec-GPC"),
        # A compliance scan's click: a real receipt, told apart from people's.
        source=SCAN_SOURCE if located.source == "scan" else "widget",
        region=located.region,
        network=truncate_ip(visitor_ip()),
        origin=origin,
        reoptin_confirmed=body["reoptin_confirmed"],
    )
    # Committed before the answer; nothing is written when the consent is refused.
    with committed() as session:
        recorded = record_consent(
            session, consent, issuer=receipt_issuer(), contexts=context_cache()
        )
    # Signed once the receipt is durable: a token never rests on a receipt that is not there.
    token = issue_token_in(
        recorded.context,
        token_issuer(),
        visitor_id=consent.visitor_id,
        basis=TokenBasis.of_receipt(recorded.payload),
        live_gpc=consent.gpc,
    )
    return receipt_response(recorded, token=token)


@bp.route("/v1/consents", methods=["OPTIONS"])
@doc.preflight_operation("preflightConsent", "posting consents")
def consent_preflight() -> Response:
    return preflight("POST", "post consents")
