"""Ed25519 JWS (RFC 7515 compact, RFC 8037 keys) signing of consent receipts.

RFC 9864 deprecates the polymorphic ``alg: EdDSA`` in favour of the fully-specified
``Ed25519``: new receipts, statements and tokens say ``Ed25519``; verification accepts both,
because receipts signed before the change say ``EdDSA`` and stay valid (same key, same
signature scheme). The published JWKs name no ``alg``: a JWK may name only one (RFC 7517
§4.4), and JOSE libraries refuse a token whose algorithm differs from its key's, so a key
labelled either way would fail one of the two generations of receipts.

Hand-written rather than taken from a JOSE library because the service only ever needs one
algorithm, one serialization and no header options; the test-suite verifies every receipt
with an independent JOSE implementation against the published JWKS.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import NoEncryption
from cryptography.hazmat.primitives.serialization import PrivateFormat
from cryptography.hazmat.primitives.serialization import PublicFormat

from consent_service.errors import InternalError

KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# What new signatures say (RFC 9864), and every name verification accepts (RFC 8037's
# "EdDSA" for the receipts signed before).
SIGNING_ALG = "Ed25519"
ACCEPTED_ALGS = (SIGNING_ALG, "EdDSA")  # a tuple: a header value need not be hashable


class InvalidReceiptSignature(InternalError):
    """A JWS that is malformed, signed by an unknown key or whose signature does not match.
    Raised while checking the service's own stored receipts (an integrity break, reported by
    ``receipts verify``), so an InternalError, not a documented problem type."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: characters outside the base64url alphabet are an error, not skipped."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def canonical_json(value: object) -> bytes:
    """Deterministic JSON: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """A private signing key and the ``kid`` under which its public half is published."""

    kid: str
    private_key: Ed25519PrivateKey = dataclasses.field(repr=False)

    def spec(self) -> str:
        """The ``kid:seed`` form used in ``CONSENT_SIGNING_KEYS``."""
        raw = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"{self.kid}:{b64url_encode(raw)}"

    @property
    def public_x(self) -> str:
        return public_key_x(self.private_key.public_key())

    def sign(self, payload: Mapping[str, object], *, typ: str = "JOSE") -> str:
        """Return the compact JWS of ``payload``; ``typ`` tells other signed documents (an
        erasure statement) from receipts."""
        header = _protected_header(self.kid, typ)
        body = b64url_encode(canonical_json(payload))
        signing_input = f"{header}.{body}".encode("ascii")
        return f"{header}.{body}.{b64url_encode(self.private_key.sign(signing_input))}"


@functools.lru_cache(maxsize=64)
def _protected_header(kid: str, typ: str) -> str:
    """The encoded JWS header: the same few per process, so serialised once each."""
    return b64url_encode(canonical_json({"alg": SIGNING_ALG, "kid": kid, "typ": typ}))


def public_key_x(public_key: Ed25519PublicKey) -> str:
    return b64url_encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def generate_signing_key(kid: str | None = None) -> SigningKey:
    kid = kid or f"{datetime.date.today():%Y%m%d}-{secrets.token_hex(3)}"
    return SigningKey(kid, Ed25519PrivateKey.generate())


def parse_signing_keys(spec: str) -> tuple[SigningKey, ...]:
    """Parse ``kid:seed[,kid:seed...]``; the first key signs, the others stay published."""
    keys: list[SigningKey] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kid, sep, seed = item.partition(":")
        if not sep or not KID_PATTERN.match(kid):
            raise ValueError("each key must be 'kid:base64url-seed' with kid of [A-Za-z0-9._-]")
        try:
            raw = b64url_decode(seed)
        except ValueError:
            raise ValueError(f"key {kid!r}: seed is not base64url") from None
        if len(raw) != 32:
            raise ValueError(f"key {kid!r}: an Ed25519 seed is 32 bytes, got {len(raw)}")
        if any(k.kid == kid for k in keys):
            raise ValueError(f"key id {kid!r} appears twice")
        keys.append(SigningKey(kid, Ed25519PrivateKey.from_private_bytes(raw)))
    if not keys:
        raise ValueError("at least one signing key is required")
    return tuple(keys)


def jwk(kid: str, x: str) -> dict[str, str]:
    """The public JWK (RFC 8037 OKP) for a key; no ``alg``, as it verifies both ``Ed25519``
    and the older ``EdDSA`` signatures (see the module's docstring)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig"}


def jws_sha256(jws: str) -> str:
    """Hex SHA-256 of a compact JWS: the link value of the per-subject hash chain."""
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


def verify_jws(jws: str, public_keys: Mapping[str, str]) -> dict[str, object]:
    """Verify ``jws`` against ``{kid: x}`` and return its payload."""
    try:
        header_b64, body_b64, sig_b64 = jws.split(".")
        header = json.loads(b64url_decode(header_b64))
        signature = b64url_decode(sig_b64)
    except ValueError:
        raise InvalidReceiptSignature("not a compact JWS") from None
    if not isinstance(header, dict) or header.get("alg") not in ACCEPTED_ALGS:
        raise InvalidReceiptSignature("unsupported JWS header")
    x = public_keys.get(str(header.get("kid")))
    if x is None:
        raise InvalidReceiptSignature(f"unknown key id {header.get('kid')!r}")
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(x))
    try:
        public_key.verify(signature, f"{header_b64}.{body_b64}".encode("ascii"))
    except InvalidSignature:
        raise InvalidReceiptSignature("signature does not match") from None
    payload = json.loads(b64url_decode(body_b64))
    if not isinstance(payload, dict):
        raise InvalidReceiptSignature("payload is not a JSON object")
    return payload
