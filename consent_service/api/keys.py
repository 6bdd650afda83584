"""``GET /.well-known/jwks.json``: the public keys anyone can verify receipts with."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.consent.jwks import published_keys
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.infra.signing import jwk


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    keys = published_keys(current_session(), settings().signing_keys)
    response = jsonify(keys=[jwk(kid, x) for kid, x in keys.items()])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
