"""The pure-Python Ed25519 verifier against RFC 8032's test vectors, against OpenSSL (through
``cryptography``) on random keys and messages, and on what must never verify. The optional
fast path runs the same cases, so the two accept exactly the same signatures."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat

from consent_client import ed25519
from consent_client import fast_ed25519

# RFC 8032 §7.1, TEST 1 to 3: (secret key, public key, message, signature), hex.
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
        "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290"
        "ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]
BACKENDS = [ed25519.PublicKey, fast_ed25519.PublicKey]
P = 2**255 - 19


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_the_rfcs_vectors_verify_and_are_what_openssl_signs(secret, public, message, signature):
    """The vectors are copied right (OpenSSL derives the same key and signature from the
    secret), and the pure verifier accepts them."""
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert raw_public(key).hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    assert ed25519.verify(bytes.fromhex(public), bytes.fromhex(signature), bytes.fromhex(message))


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
@pytest.mark.parametrize("key_type", BACKENDS)
def test_a_vector_with_any_bit_changed_does_not_verify(
    key_type, secret, public, message, signature
):
    key = key_type(bytes.fromhex(public))
    message_bytes, signature_bytes = bytes.fromhex(message), bytes.fromhex(signature)
    assert key.verify(signature_bytes, message_bytes)
    assert not key.verify(signature_bytes, message_bytes + b"\x00")
    for bit in (0, 7, 100, 255, 256, 300, 511):  # in R (bits 0-255) and in S
        changed = bytearray(signature_bytes)
        changed[bit // 8] ^= 1 << (bit % 8)
        assert not key.verify(bytes(changed), message_bytes), bit


@pytest.mark.parametrize("key_type", BACKENDS)
def test_random_keys_and_messages_verify_as_openssl_signs_them(key_type):
    for length in (0, 1, 31, 32, 33, 200, 1000):
        private = Ed25519PrivateKey.generate()
        message = os.urandom(length)
        signature = private.sign(message)
        assert key_type(raw_public(private)).verify(signature, message)
        other = Ed25519PrivateKey.generate()
        assert not key_type(raw_public(other)).verify(signature, message)


@pytest.mark.parametrize("key_type", BACKENDS)
def test_a_malleated_signature_with_s_plus_the_group_order_is_refused(key_type):
    """S and S + L satisfy the same equation; RFC 8032 §5.1.7 refuses any S >= L."""
    private = Ed25519PrivateKey.generate()
    signature = private.sign(b"order")
    s = int.from_bytes(signature[32:], "little") + ed25519.L
    malleated = signature[:32] + s.to_bytes(32, "little")
    assert not key_type(raw_public(private)).verify(malleated, b"order")


@pytest.mark.parametrize("key_type", BACKENDS)
def test_signatures_of_the_wrong_length_are_refused(key_type):
    private = Ed25519PrivateKey.generate()
    signature = private.sign(b"m")
    key = key_type(raw_public(private))
    assert not key.verify(signature[:-1], b"m")
    assert not key.verify(signature + b"\x00", b"m")
    assert not key.verify(b"", b"m")


def test_encodings_that_name_no_point_are_not_public_keys():
    y_too_large = (P + 1).to_bytes(32, "little")  # y >= p: not canonical
    assert ed25519.decode_point(y_too_large) is None
    # y = 2 has no x on the curve: x**2 = 3 / (4d + 1) is not a square mod p.
    assert ed25519.decode_point((2).to_bytes(32, "little")) is None
    # y = 1 gives x = 0, which has no negative: the sign bit set is invalid.
    assert ed25519.decode_point((1 | 1 << 255).to_bytes(32, "little")) is None
    for bad in (y_too_large, b"\x00" * 31, b"\x00" * 33):
        with pytest.raises(ValueError):
            ed25519.PublicKey(bad)
        assert not ed25519.verify(bad, b"\x00" * 64, b"m")


def test_decoding_and_encoding_a_point_round_trip():
    for _ in range(5):
        public = raw_public(Ed25519PrivateKey.generate())
        point = ed25519.decode_point(public)
        assert point is not None
        assert ed25519.encode_point(point) == public
