"""``POST /v1/consents``: record one act of consent and return its signed receipt.

Widgets post from the shops' own pages, so the route answers CORS preflights for origins a
property lists, and the choice itself is refused (403) unless its property lists the origin.
"""

from __future__ import annotations

from flask import Response
from flask import request

from consent_service.api import bp
from consent_service.api.recording import receipt_response
from consent_service.api.schemas import ConsentRequestSchema
from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import record_consent
from consent_service.extensions import committed
from consent_service.extensions import receipt_issuer
from consent_service.infra.network import truncate_ip
from consent_service.web.cors import answer_page
from consent_service.web.cors import preflight
from consent_service.web.request_body import load_json
from consent_service.web.visitor_region import visitor_ip
from consent_service.web.visitor_region import visitor_region

_schema = ConsentRequestSchema()


@bp.post("/v1/consents", provide_automatic_options=False)
def create_consent() -> Response:
    return answer_page(_record)


def _record(origin: str | None) -> Response:
    body = load_json(_schema)
    consent = ConsentRequest(
        property_key=body["property"],
        visitor_id=body["visitor_id"],
        policy_version=body["policy_version"],
        method=Method(body["method"]),
        decisions=body["decisions"],
        gpc=body["gpc"] or "1" in request.headers.getlist("Sec-GPC"),
        source="widget",
        region=visitor_region().region,
        network=truncate_ip(visitor_ip()),
        origin=origin,
    )
    # Committed before the answer; nothing is written when the consent is refused.
    with committed() as session:
        recorded = record_consent(session, consent, issuer=receipt_issuer())
    return receipt_response(recorded)


@bp.route("/v1/consents", methods=["OPTIONS"])
def consent_preflight() -> Response:
    return preflight("POST", "post consents")
