"""The optional fast path: OpenSSL's Ed25519 through ``cryptography``, when installed
(``pip install 'consent-client[fast]'``). The one module of the client that may import it;
``tokens`` falls back to :mod:`consent_client.ed25519` when it cannot be imported."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class PublicKey:
    """The same interface as :class:`consent_client.ed25519.PublicKey`."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError("not an Ed25519 public key (32 bytes naming a curve point)")
        self.raw = bytes(raw)
        self._key = Ed25519PublicKey.from_public_bytes(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True
