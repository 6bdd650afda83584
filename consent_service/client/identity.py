"""Signing identity tokens in the shop's backend, with the standard library only.

A token says "this browser's visitor is customer C / email E" for one property; the widget
hands it to the service, which links the visitor only if the signature verifies. The format
is itsdangerous' ``URLSafeTimedSerializer`` (salt ``consent-service/identity-token/v1``,
HMAC key derivation, SHA-256), exactly as the server's ``token_serializer`` reads it, so the
token this module makes equals the one itsdangerous would make at the same second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib

TOKEN_SALT = b"consent-service/identity-token/v1"


def sign_identity_token(
    secret: str,
    property_key: str,
    *,
    customer: str | None = None,
    email: str | None = None,
    now: float | None = None,
) -> str:
    """A token for the widget's ``identity`` option, valid for the service's token lifetime.

    ``secret`` is one of the property's identity secrets (``cis_...``). Only name what the
    shop has verified itself (a signed-in customer), never what the visitor typed.
    """
    if customer is None and email is None:
        raise ValueError("name a customer, an email, or both")
    payload: dict[str, str] = {"p": property_key}
    if customer is not None:
        payload["c"] = customer
    if email is not None:
        payload["e"] = email
    value = _payload(payload) + b"." + _b64(_int_bytes(int(time.time() if now is None else now)))
    key = hmac.new(secret.encode(), TOKEN_SALT, hashlib.sha256).digest()
    signature = hmac.new(key, value, hashlib.sha256).digest()
    return (value + b"." + _b64(signature)).decode("ascii")


def _payload(claims: dict[str, str]) -> bytes:
    """Compact JSON, zlib-compressed (with a leading ".") only when that saves two bytes or
    more: itsdangerous' rule, kept so the tokens are byte-for-byte the same."""
    data = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    compressed = zlib.compress(data)
    if len(compressed) < len(data) - 1:
        return b"." + _b64(compressed)
    return _b64(data)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _int_bytes(number: int) -> bytes:
    return number.to_bytes(8, "big").lstrip(b"\x00")
