"""Signed, short-lived region overrides for the admin's banner preview.

Production ignores a visitor's ``?region=``; the admin's preview still needs to show the banner
of a chosen region. It passes a token it signed instead of a plain region code: the banner API
honours a token that verifies and is fresh, and ignores anything else."""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer

from consent_service.infra.timed_tokens import hmac_sha256_serializer
from consent_service.jurisdictions.regions import normalise_region

SALT = "consent-service/banner-preview/v1"
MAX_AGE_SECONDS = 10 * 60


def _serializer(secret_key: str, *, signed_at: dt.datetime | None = None) -> URLSafeTimedSerializer:
    return hmac_sha256_serializer(secret_key, SALT, signed_at=signed_at)


def sign_preview_region(
    secret_key: str, region: str, *, signed_at: dt.datetime | None = None
) -> str:
    """A token naming ``region`` (already normalised, e.g. ``US-CA``)."""
    return _serializer(secret_key, signed_at=signed_at).dumps({"r": region})


def preview_region(
    secret_key: str, token: str | None, *, max_age: int = MAX_AGE_SECONDS
) -> str | None:
    """The region a valid, fresh token names; None for anything else (never raises)."""
    if not token or len(token) > 512:
        return None
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(payload, dict):
        return None
    region = payload.get("r")
    return normalise_region(region) if isinstance(region, str) else None
