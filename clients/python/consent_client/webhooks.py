"""Verifying the service's webhooks (Standard Webhooks v1, symmetric HMAC-SHA256).

A receiver must not act on an unverified body: anyone can POST to a public URL. The checks are
the reference library's, in the standard library: the signature covers
``"{webhook-id}.{webhook-timestamp}.{body}"``, the timestamp must be within five minutes of
now (a captured request cannot be replayed later), and digests are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from consent_client.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


def verify_webhook(
    secret: str | bytes,
    body: bytes,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The webhook's JSON payload once its signature verifies, else WebhookVerificationError.

    ``body`` must be the raw request bytes (re-serialised JSON would not match the signature);
    ``headers`` may be a dict in any letter case or a framework's header object. Deduplicate
    on the ``webhook-id`` header: it stays the same across retries.
    """
    found = _lowercase(headers)
    msg_id = found.get("webhook-id", "")
    timestamp = found.get("webhook-timestamp", "")
    signatures = found.get("webhook-signature", "")
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    _check_timestamp(timestamp, tolerance, time.time() if now is None else now)
    expected = hmac.new(
        _secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256
    ).digest()
    if not any(hmac.compare_digest(expected, sig) for sig in _v1_signatures(signatures)):
        raise WebhookVerificationError("no signature matches the body and the secret")
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("the signed body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the signed body is not a JSON object")
    return payload


def _lowercase(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(name).lower(): str(value) for name, value in items}


def _check_timestamp(header: str, tolerance: float, now: float) -> None:
    if not header.isascii() or not header.isdigit():
        raise WebhookVerificationError(f"webhook-timestamp {header!r} is not Unix seconds")
    sent = int(header)
    if sent < now - tolerance:
        raise WebhookVerificationError("the webhook is too old (more than 5 minutes)")
    if sent > now + tolerance:
        raise WebhookVerificationError("the webhook's timestamp is in the future")


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        key = secret
    else:
        encoded = secret.removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookVerificationError("the secret is not whsec_<base64>") from None
    if not key:
        raise WebhookVerificationError("the webhook secret is empty")
    return key


def _v1_signatures(header: str) -> list[bytes]:
    """Every ``v1`` signature in the header; other versions (``v1a``) and junk are skipped,
    so a rotation that adds a new scheme does not break this receiver."""
    found = []
    for entry in header.split(" "):
        version, sep, encoded = entry.partition(",")
        if version != "v1" or not sep:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
