"""Recording one consent and answering with its signed receipt: shared by the widget's
endpoint and the backends' one, so both commit and answer alike."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import record_consent
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import receipt_issuer


def recorded_response(consent: ConsentRequest) -> Response:
    """Record ``consent`` in one committed transaction (nothing written when refused) and
    answer 201 with the receipt (compact JWS), its id and its payload."""
    try:
        recorded = record_consent(current_session(), consent, issuer=receipt_issuer())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    response = jsonify(
        receipt=recorded.jws, receipt_id=str(recorded.receipt_id), payload=recorded.payload
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
