"""``GET /.well-known/jwks.json``: the public keys anyone can verify receipts with."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.response_schemas import JwksSchema
from consent_service.consent.jwks import published_keys
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.infra.signing import jwk

_jwks = JwksSchema()


@bp.get("/.well-known/jwks.json")
@doc.operation(
    "getJwks",
    "Verification",
    responses={200: doc.Answer("The keys.", JwksSchema, headers=doc.CACHE_HEADERS)},
)
def jwks() -> Response:
    """The public keys receipts are signed with

    A JWK Set (RFC 7517) of Ed25519 keys; retired keys stay published so old receipts keep
    verifying.
    """
    keys = published_keys(current_session(), settings().signing_keys)
    response = jsonify(_jwks.dump({"keys": [jwk(kid, x) for kid, x in keys.items()]}))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
