"""Encryption of personal data at rest, and keyed blind indexes to find it again.

Ciphertexts carry the id of the key that made them (``v1 | kid length | kid | nonce | sealed``),
so a new key can become current while old rows stay readable until re-encrypted. The blind
index key cannot rotate the same way (an index must be recomputable from the plain value);
it is separate from the data keys so that leaking an index reveals nothing to decrypt with.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import re
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consent_service.errors import InternalError
from consent_service.infra.signing import KID_PATTERN

_FORMAT = b"\x01"
_NONCE_BYTES = 12
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class UndecryptableData(InternalError):
    """A ciphertext made with a key this process does not hold, or tampered with: stored data
    the service cannot read is its own fault (an InternalError), never the caller's."""


@dataclasses.dataclass(frozen=True)
class DataKey:
    kid: str
    secret: bytes = dataclasses.field(repr=False)

    def spec(self) -> str:
        return f"{self.kid}:{base64.urlsafe_b64encode(self.secret).decode().rstrip('=')}"


def generate_data_key(kid: str = "dk1") -> DataKey:
    return DataKey(kid, os.urandom(32))


def parse_data_keys(spec: str) -> tuple[DataKey, ...]:
    """``kid:base64url(32 bytes),...``; the first key encrypts, every key decrypts."""
    keys: list[DataKey] = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, _, encoded = item.partition(":")
        if not KID_PATTERN.match(kid):
            raise ValueError(f"key id {kid!r} must match {KID_PATTERN.pattern}")
        try:
            secret = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise ValueError(f"key {kid!r} is not base64url") from None
        if len(secret) != 32:
            raise ValueError(f"key {kid!r} must be 32 bytes (AES-256), got {len(secret)}")
        keys.append(DataKey(kid, secret))
    if not keys:
        raise ValueError("at least one key is required")
    if len({key.kid for key in keys}) != len(keys):
        raise ValueError("key ids must be unique")
    return tuple(keys)


class Cipher:
    """AES-256-GCM with the key id inside each ciphertext; ``context`` binds a ciphertext
    to where it belongs (as associated data), so a value copied to another row will not open."""

    def __init__(self, keys: tuple[DataKey, ...]) -> None:
        if not keys:
            raise ValueError("a cipher needs at least one key")
        self._current = keys[0]
        self._by_kid = {key.kid: AESGCM(key.secret) for key in keys}

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        kid = self._current.kid.encode()
        sealed = self._by_kid[self._current.kid].encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        return _FORMAT + bytes([len(kid)]) + kid + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, context: str) -> str:
        if len(ciphertext) < 2 or ciphertext[:1] != _FORMAT:
            raise UndecryptableData("unknown ciphertext format")
        kid_end = 2 + ciphertext[1]
        kid = ciphertext[2:kid_end].decode(errors="replace")
        aead = self._by_kid.get(kid)
        if aead is None:
            raise UndecryptableData(f"no data key {kid!r} is configured")
        nonce = ciphertext[kid_end : kid_end + _NONCE_BYTES]
        try:
            return aead.decrypt(
                nonce, ciphertext[kid_end + _NONCE_BYTES :], context.encode()
            ).decode()
        except InvalidTag:
            raise UndecryptableData("the ciphertext does not open with its key") from None


def normalise_email(address: str) -> str:
    """One spelling per mailbox: trimmed, NFC, lower-cased (shops treat addresses so)."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def is_plausible_email(address: str) -> bool:
    return len(address) <= 254 and EMAIL_PATTERN.match(address) is not None


def blind_index(index_key: bytes, property_id: int, kind: str, value: str) -> str:
    """HMAC-SHA256 of the value, scoped to a property and a kind of value."""
    message = f"{property_id}\x1f{kind}\x1f{value}".encode()
    return hmac.new(index_key, message, hashlib.sha256).hexdigest()


@dataclasses.dataclass(frozen=True)
class Vault:
    """What the domain needs to protect personal data: the cipher and the index key."""

    cipher: Cipher
    index_key: bytes = dataclasses.field(repr=False)

    def email_index(self, property_id: int, address: str) -> str:
        return blind_index(self.index_key, property_id, "email", normalise_email(address))

    def seal_email(self, property_id: int, address: str) -> bytes:
        return self.cipher.encrypt(normalise_email(address), context=f"email:{property_id}")

    def open_email(self, property_id: int, ciphertext: bytes) -> str:
        return self.cipher.decrypt(ciphertext, context=f"email:{property_id}")
