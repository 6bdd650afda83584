"""Receipt signatures: standard JWS that an independent JOSE library accepts."""

from __future__ import annotations

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from consent_service.infra.signing import InvalidReceiptSignature
from consent_service.infra.signing import SigningKey
from consent_service.infra.signing import b64url_encode
from consent_service.infra.signing import canonical_json
from consent_service.infra.signing import generate_signing_key
from consent_service.infra.signing import jwk
from consent_service.infra.signing import parse_signing_keys
from consent_service.infra.signing import verify_jws

PAYLOAD = {"receipt_id": "r-1", "decisions": {"analytics": "granted"}, "prev": None}


def test_a_new_signature_says_ed25519_and_joserfc_verifies_it_without_a_deprecation_warning():
    # RFC 9864: the fully-specified "Ed25519" replaces the polymorphic "EdDSA"; the suite
    # turns warnings into errors, so joserfc's deprecation warning would fail this test.
    key = generate_signing_key("k1")
    token = key.sign(PAYLOAD)
    keyset = KeySet.import_key_set({"keys": [jwk(key.kid, key.public_x)]})
    result = jws.deserialize_compact(token, keyset, algorithms=["Ed25519"])
    assert result.headers()["kid"] == "k1"
    assert result.headers()["alg"] == "Ed25519"


def eddsa_signed(key: SigningKey, payload: dict[str, object]) -> str:
    """A JWS as the service signed before RFC 9864: the same key and scheme, ``alg: EdDSA``."""
    header = b64url_encode(canonical_json({"alg": "EdDSA", "kid": key.kid, "typ": "JOSE"}))
    body = b64url_encode(canonical_json(payload))
    signature = key.private_key.sign(f"{header}.{body}".encode("ascii"))
    return f"{header}.{body}.{b64url_encode(signature)}"


def test_a_receipt_signed_before_as_eddsa_still_verifies_with_our_verifier():
    key = generate_signing_key("k1")
    assert verify_jws(eddsa_signed(key, PAYLOAD), {"k1": key.public_x}) == PAYLOAD


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_a_receipt_signed_before_as_eddsa_verifies_with_joserfc_against_the_same_jwk():
    key = generate_signing_key("k1")
    keyset = KeySet.import_key_set({"keys": [jwk(key.kid, key.public_x)]})
    result = jws.deserialize_compact(eddsa_signed(key, PAYLOAD), keyset, algorithms=["EdDSA"])
    assert result.headers()["alg"] == "EdDSA"


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", ["Ed25519"], None])
def test_a_header_naming_another_algorithm_is_refused(alg):
    key = generate_signing_key("k1")
    _, body, signature = key.sign(PAYLOAD).split(".")
    header = b64url_encode(canonical_json({"alg": alg, "kid": "k1"}))
    with pytest.raises(InvalidReceiptSignature, match="unsupported JWS header"):
        verify_jws(f"{header}.{body}.{signature}", {"k1": key.public_x})


def test_a_signed_payload_verifies_with_our_verifier():
    key = generate_signing_key("k1")
    assert verify_jws(key.sign(PAYLOAD), {"k1": key.public_x}) == PAYLOAD


def test_a_changed_payload_fails_verification():
    key = generate_signing_key("k1")
    header, _, signature = key.sign(PAYLOAD).split(".")
    forged_body = generate_signing_key("k1").sign({"receipt_id": "r-2"}).split(".")[1]
    with pytest.raises(InvalidReceiptSignature, match="does not match"):
        verify_jws(f"{header}.{forged_body}.{signature}", {"k1": key.public_x})


def test_a_signature_by_an_unpublished_key_fails_verification():
    token = generate_signing_key("k2").sign(PAYLOAD)
    with pytest.raises(InvalidReceiptSignature, match="unknown key"):
        verify_jws(token, {"k1": generate_signing_key("k1").public_x})


def test_the_first_configured_key_signs_and_every_key_parses():
    old, new = generate_signing_key("old"), generate_signing_key("new")
    keys = parse_signing_keys(f"{new.spec()}, {old.spec()}")
    assert [k.kid for k in keys] == ["new", "old"]
    assert keys[0].public_x == new.public_x


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "at least one"),
        ("no-separator", "kid:base64url-seed"),
        ("bad kid!:AAAA", "kid:base64url-seed"),
        ("k1:AAAA", "32 bytes"),
        ("k1:***", "base64url"),
    ],
)
def test_malformed_signing_key_specs_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_signing_keys(spec)


def test_a_key_id_cannot_appear_twice():
    key = generate_signing_key("k1")
    with pytest.raises(ValueError, match="twice"):
        parse_signing_keys(f"{key.spec()},{key.spec()}")
