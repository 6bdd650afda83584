"""Consent tokens signed the way the service signs them, with keys a test holds, and a JWKS
served over real HTTP (the client's stand-in service): for the client's token tests. The
server's own tokens are verified in the repository's integration tests."""

from __future__ import annotations

import base64
import json
from typing import Any

from client_fakes import FakeService
from client_fakes import Seen
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat

PROPERTY = "demo-shop"
VISITOR = "5b1c2f9e-0d1a-4c3e-9f00-2a7d1e6b8c11"
RECEIPT = "0190a6f2-5c3e-7d41-8a2b-3c4d5e6f7a8b"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
TTL = 900


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims(**overrides: Any) -> dict[str, Any]:
    """A token's claims as the service writes them; ``overrides`` replace (None removes)."""
    value: dict[str, Any] = {
        "schema": "consent-service/consent-token/v1",
        "property": PROPERTY,
        "sub": VISITOR,
        "jurisdiction": "EU",
        "receipt_id": RECEIPT,
        "policy_version": 2,
        "decisions": {
            "necessary": {"allowed": True, "reason": "essential"},
            "analytics": {"allowed": True, "reason": "granted"},
            "marketing": {"allowed": False, "reason": "denied"},
        },
        "iat": NOW,
        "exp": NOW + TTL,
    }
    value.update(overrides)
    return {k: v for k, v in value.items() if v is not None}


class Signer:
    """One signing key and the ``kid`` its public half is published under."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = Ed25519PrivateKey.generate()

    @property
    def x(self) -> str:
        return b64url(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "use": "sig"}

    def token(self, payload: dict[str, Any] | None = None, **header: Any) -> str:
        """A compact JWS of ``payload`` (default: :func:`claims`); ``header`` entries
        replace the service's (None removes)."""
        fields = {"alg": "Ed25519", "kid": self.kid, "typ": "consent-token+jwt", **header}
        head = b64url(json.dumps({k: v for k, v in fields.items() if v is not None}).encode())
        body = b64url(json.dumps(claims() if payload is None else payload).encode())
        signature = self.key.sign(f"{head}.{body}".encode("ascii"))
        return f"{head}.{body}.{b64url(signature)}"


class JwksService(FakeService):
    """Serves ``/.well-known/jwks.json`` with the keys of ``signers`` (changeable: a rotation),
    or ``status`` with a problem when a test breaks it; counts the fetches."""

    def __init__(self, *signers: Signer) -> None:
        self.signers = list(signers)
        self.status = 200
        super().__init__(self._answer)

    @property
    def fetches(self) -> int:
        return sum(1 for seen in self.seen if seen.path == "/.well-known/jwks.json")

    def _answer(self, seen: Seen) -> tuple[int, Any]:
        if seen.path != "/.well-known/jwks.json":
            return 404, {"title": "Not Found", "status": 404}
        if self.status != 200:
            return self.status, {"title": "Broken", "status": self.status}
        return 200, {"keys": [signer.jwk() for signer in self.signers]}
