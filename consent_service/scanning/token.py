"""The signed scan token: how a scan makes the widget believe it is in the scanned region.

Production ignores a visitor's ``?region=``, and the scanner's browser is wherever the scan
runs. So the scanner opens each page with ``?region=<token>``; the widget passes the page's
``?region=`` on to ``/v1/banner`` and ``/v1/consents``, and the service honours a token it
signed itself (the app's secret key, a salt of its own, fresh for :data:`MAX_AGE`) in every
environment, and nothing else a client says. Like the admin's preview token
(``banner/preview.py``), but it also reaches ``/v1/consents``: a scan's clicks record real,
signed receipts, under the scanned region, with ``source`` :data:`SCAN_SOURCE` so that they
are told apart from people's: the dashboard's figures leave them out, and they send no
``consent.changed`` webhook event.
"""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer

from consent_service.consent.receipts import SCAN_SOURCE
from consent_service.infra.timed_tokens import hmac_sha256_serializer
from consent_service.jurisdictions.regions import normalise_region

SALT = "consent-service/scan-region/v1"
# Long enough for one browser context of a scan (its pages, each with its own timeout).
MAX_AGE = dt.timedelta(hours=2)
# The region a token names for "where the service could not tell" (the strictest fallback).
UNKNOWN = "unknown"
_MAX_TOKEN = 512


def _serializer(secret_key: str, signed_at: dt.datetime | None = None) -> URLSafeTimedSerializer:
    return hmac_sha256_serializer(secret_key, SALT, signed_at=signed_at)


def sign_scan_region(
    secret_key: str, region: str | None, *, signed_at: dt.datetime | None = None
) -> str:
    """A token naming ``region`` (normalised, e.g. ``US-CA``; None: unknown)."""
    return str(_serializer(secret_key, signed_at).dumps({"scan": region or UNKNOWN}))


def scan_region(
    secret_key: str, token: str | None, *, max_age: dt.timedelta = MAX_AGE
) -> tuple[bool, str | None]:
    """``(True, region)`` for a valid, fresh scan token (region None: unknown); ``(False,
    None)`` for anything else. Never raises."""
    if not token or len(token) > _MAX_TOKEN or "." not in token:
        return False, None
    try:
        payload = _serializer(secret_key).loads(token, max_age=int(max_age.total_seconds()))
    except BadData:
        return False, None
    named = payload.get("scan") if isinstance(payload, dict) else None
    if named == UNKNOWN:
        return True, None
    region = normalise_region(named) if isinstance(named, str) else None
    return (True, region) if region else (False, None)


__all__ = ["SCAN_SOURCE", "UNKNOWN", "scan_region", "sign_scan_region"]
