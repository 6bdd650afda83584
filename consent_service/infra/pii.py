"""Encryption of personal data at rest, and keyed blind indexes to find it again.

Ciphertexts carry the id of the key that made them (``v1 | kid length | kid | nonce | sealed``),
so a new key can become current while old rows stay readable until re-encrypted. The blind
index key cannot rotate the same way (an index must be recomputable from the plain value);
it is separate from the data keys so that leaking an index reveals nothing to decrypt with.

A person's own data (email, customer reference) is sealed with that person's key instead
(``v2 | nonce | sealed``, no key id: the key is found by the identity it belongs to), kept
wrapped under the data keys in a key store outside the main database (``infra/keystore.py``):
deleting the key makes every copy of those ciphertexts, in every backup, unreadable.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consent_service.errors import InternalError
from consent_service.infra.signing import KID_PATTERN

_FORMAT = b"\x01"
_PERSON_FORMAT = b"\x02"
PERSON_KEY_BYTES = 32
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

    @property
    def current_kid(self) -> str:
        return self._current.kid

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        return self.seal(plaintext.encode(), context=context)

    def decrypt(self, ciphertext: bytes, *, context: str) -> str:
        return self.open(ciphertext, context=context).decode()

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        kid = self._current.kid.encode()
        sealed = self._by_kid[self._current.kid].encrypt(nonce, plaintext, context.encode())
        return _FORMAT + bytes([len(kid)]) + kid + nonce + sealed

    def open(self, ciphertext: bytes, *, context: str) -> bytes:
        if len(ciphertext) < 2 or ciphertext[:1] != _FORMAT:
            raise UndecryptableData("unknown ciphertext format")
        kid_end = 2 + ciphertext[1]
        kid = ciphertext[2:kid_end].decode(errors="replace")
        aead = self._by_kid.get(kid)
        if aead is None:
            raise UndecryptableData(f"no data key {kid!r} is configured")
        nonce = ciphertext[kid_end : kid_end + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, ciphertext[kid_end + _NONCE_BYTES :], context.encode())
        except InvalidTag:
            raise UndecryptableData("the ciphertext does not open with its key") from None


def kid_of(ciphertext: bytes) -> str | None:
    """The data key id inside a :class:`Cipher` ciphertext (None: not one)."""
    if len(ciphertext) < 2 or ciphertext[:1] != _FORMAT:
        return None
    return ciphertext[2 : 2 + ciphertext[1]].decode(errors="replace")


def is_person_sealed(ciphertext: bytes) -> bool:
    return ciphertext[:1] == _PERSON_FORMAT


def seal_for_person(key: bytes, plaintext: str, *, context: str) -> bytes:
    """AES-256-GCM under one person's own key; ``context`` (kind, property, identity) is the
    associated data, so a ciphertext copied to another row or person will not open."""
    nonce = os.urandom(_NONCE_BYTES)
    return _PERSON_FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())


def open_for_person(key: bytes, ciphertext: bytes, *, context: str) -> str:
    if not is_person_sealed(ciphertext):
        raise UndecryptableData("not sealed with a person key")
    nonce = ciphertext[1 : 1 + _NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext[1 + _NONCE_BYTES :], context.encode()).decode()
    except InvalidTag:
        raise UndecryptableData("the ciphertext does not open with the person's key") from None


def normalise_email(address: str) -> str:
    """One spelling per mailbox: trimmed, NFC, lower-cased (shops treat addresses so)."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def is_plausible_email(address: str) -> bool:
    return len(address) <= 254 and EMAIL_PATTERN.match(address) is not None


def blind_index(index_key: bytes, property_id: int, kind: str, value: str) -> str:
    """HMAC-SHA256 of the value, scoped to a property and a kind of value.

    The MAC of ``property \x1f kind \x1f`` is keyed once and copied for each value (the same
    MAC as of the whole message): a bulk look-up names 10,000 customers, and keying each one
    afresh cost a sixth of its time."""
    return blind_indexer(index_key, property_id, kind)(value)


@functools.lru_cache(maxsize=1024)
def blind_indexer(index_key: bytes, property_id: int, kind: str) -> Callable[[str], str]:
    """:func:`blind_index` of one scope, for many values (a bulk look-up's 10,000)."""
    scope = hmac.new(index_key, f"{property_id}\x1f{kind}\x1f".encode(), hashlib.sha256)

    def index(value: str) -> str:
        mac = scope.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return index


class PersonKeys(Protocol):
    """Where each person's key lives (``infra/keystore.KeyStore``)."""

    def key_for(self, identity_id: uuid.UUID, *, now: dt.datetime) -> bytes: ...

    def keys_of(self, identity_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]: ...

    def shred(self, identity_id: uuid.UUID) -> int: ...

    def shred_all(self, identity_ids: Iterable[uuid.UUID]) -> int: ...


EMAIL = "email"
CUSTOMER = "customer"


@dataclasses.dataclass(frozen=True)
class Vault:
    """What the domain needs to protect personal data: the cipher (service secrets, wrapped
    person keys, emails sealed before person keys), the index key, and the person keys."""

    cipher: Cipher
    index_key: bytes = dataclasses.field(repr=False)
    people: PersonKeys

    def email_index(self, property_id: int, address: str) -> str:
        return blind_index(self.index_key, property_id, EMAIL, normalise_email(address))

    def customer_index(self, property_id: int, customer_ref: str) -> str:
        return blind_index(self.index_key, property_id, CUSTOMER, customer_ref)

    def indexer(self, property_id: int, kind: str) -> Callable[[str], str]:
        """The blind index of ``kind`` (EMAIL, already normalised; CUSTOMER) in a property."""
        return blind_indexer(self.index_key, property_id, kind)

    def seal(
        self, identity_id: uuid.UUID, property_id: int, kind: str, value: str, *, now: dt.datetime
    ) -> bytes:
        """``value`` (an email, normalised; a customer reference) under the person's own key."""
        key = self.people.key_for(identity_id, now=now)
        return seal_for_person(key, value, context=_context(kind, property_id, identity_id))

    def open(
        self,
        identity_id: uuid.UUID,
        property_id: int,
        kind: str,
        ciphertext: bytes,
        *,
        keys: Mapping[uuid.UUID, bytes] | None = None,
    ) -> str | None:
        """The plain value, or None when the person's key is gone (erased). ``keys``: person
        keys already fetched in bulk (``people.keys_of``). An email sealed before person keys
        existed opens with the data keys until ``consent-service keystore convert`` reseals it."""
        if not is_person_sealed(ciphertext):
            return self.cipher.decrypt(ciphertext, context=f"email:{property_id}")
        found = keys if keys is not None else self.people.keys_of([identity_id])
        key = found.get(identity_id)
        if key is None:
            return None
        return open_for_person(key, ciphertext, context=_context(kind, property_id, identity_id))


def _context(kind: str, property_id: int, identity_id: uuid.UUID) -> str:
    return f"{kind}:{property_id}:{identity_id}"
