"""The published key set."""

from __future__ import annotations


def test_the_jwks_publishes_the_current_key_as_an_okp_ed25519_jwk_naming_no_alg(client, app):
    """No ``alg``: the key verifies receipts signed as ``Ed25519`` (RFC 9864) and those signed
    before as ``EdDSA``, and a JWK may name only one."""
    key = app.extensions["consent_settings"].signing_keys[0]
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.public_x,
        "kid": key.kid,
        "use": "sig",
    } in response.json["keys"]


def test_the_jwks_holds_no_private_key_material(client):
    for jwk in client.get("/.well-known/jwks.json").json["keys"]:
        assert "d" not in jwk
