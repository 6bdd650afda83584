"""``POST /v1/consents``: record one act of consent and return its signed receipt."""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import jsonify
from flask import request

from consent_service.api import bp
from consent_service.api.request_body import load_json
from consent_service.api.schemas import ConsentRequestSchema
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.network import truncate_ip
from consent_service.receipts import ConsentRequest
from consent_service.receipts import Method
from consent_service.receipts import record_consent

_schema = ConsentRequestSchema()


@bp.post("/v1/consents")
def create_consent() -> tuple[Response, int]:
    body = load_json(_schema)
    consent = ConsentRequest(
        property_key=body["property"],
        visitor_id=body["visitor_id"],
        policy_version=body["policy_version"],
        method=Method(body["method"]),
        decisions=body["decisions"],
        gpc=body["gpc"] or "1" in request.headers.getlist("Sec-GPC"),
        source="widget",
        network=truncate_ip(request.remote_addr),
    )
    try:
        recorded = record_consent(
            current_session(), consent, issuer=current_app.extensions["receipt_issuer"]
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    response = jsonify(
        receipt=recorded.jws, receipt_id=str(recorded.receipt_id), payload=recorded.payload
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 201
