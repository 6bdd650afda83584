"""Signing identity tokens in the shop's backend, with the standard library only.

A token says "visitor V of this browser is customer C / email E" for one property; the
widget hands it to the service, which links the visitor only if the signature verifies, the
token names that visitor, and its nonce has not been used before. The format is
itsdangerous' ``URLSafeTimedSerializer`` (salt ``consent-service/identity-token/v1``, HMAC
key derivation, SHA-256) over the JSON ``{"p": property, "v": visitor id, "n": nonce,
"c": customer, "e": email}``, exactly as the server's ``token_serializer`` reads it, so the
token this module makes equals the one itsdangerous would make at the same second with the
same nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
import zlib

TOKEN_SALT = b"consent-service/identity-token/v1"
NONCE_BYTES = 16
_WIDGET_COOKIE = re.compile(r"1\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\|")


def sign_identity_token(
    secret: str,
    property_key: str,
    *,
    visitor_id: str | uuid.UUID,
    customer: str | None = None,
    email: str | None = None,
    locale: str | None = None,
    now: float | None = None,
    nonce: str | None = None,
) -> str:
    """A token for the widget's ``data-identity-token``: it links ``visitor_id`` (the widget's
    visitor id, see :func:`visitor_id_from_cookie`) once, within the service's token lifetime.

    ``secret`` is one of the property's identity secrets (``cis_...``). Only name what the
    shop has verified itself (a signed-in customer), never what the visitor typed. Sign a
    fresh token for each page: each carries a new random nonce (``nonce`` is for tests).
    ``locale``: the customer's language for emails (one of the property's, e.g. ``de``).
    """
    if customer is None and email is None:
        raise ValueError("name a customer, an email, or both")
    payload: dict[str, str] = {
        "p": property_key,
        "v": str(uuid.UUID(str(visitor_id))),
        "n": secrets.token_urlsafe(NONCE_BYTES) if nonce is None else nonce,
    }
    if customer is not None:
        payload["c"] = customer
    if email is not None:
        payload["e"] = email
    if locale is not None:
        payload["l"] = locale
    value = _payload(payload) + b"." + _b64(_int_bytes(int(time.time() if now is None else now)))
    key = hmac.new(secret.encode(), TOKEN_SALT, hashlib.sha256).digest()
    signature = hmac.new(key, value, hashlib.sha256).digest()
    return (value + b"." + _b64(signature)).decode("ascii")


def visitor_id_from_cookie(value: str | None) -> str | None:
    """The widget's visitor id from its cookie (``consent_<property>``, or the name given in
    ``data-cookie``), or None when the browser has made no choice yet."""
    found = _WIDGET_COOKIE.match(value or "")
    return found.group(1) if found else None


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
