"""The answer to a recorded consent, shared by the widget's endpoint and the backends' one so
that both answer alike."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from consent_service.consent.receipts import RecordedReceipt


def receipt_response(recorded: RecordedReceipt, *, token: str | None = None) -> Response:
    """201 with the receipt (compact JWS), its id and its payload, and the widget's consent
    token when there is one; never cached."""
    body: dict[str, object] = {
        "receipt": recorded.jws,
        "receipt_id": str(recorded.receipt_id),
        "payload": recorded.payload,
    }
    if token is not None:
        body["token"] = token
    response = jsonify(body)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
