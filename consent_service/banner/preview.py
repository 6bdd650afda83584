"""Signed, short-lived region overrides for the admin's banner preview.

Production ignores a visitor's ``?region=``; the admin's preview still needs to show the banner
of a chosen region. It passes a token it signed instead of a plain region code: the banner API
honours a token that verifies and is fresh, and ignores anything else.

Its words depend on the regime (opt-in, opt-out, notice), so the preview offers each regime
through one region of the rulebook that has it today: :func:`regime_examples`."""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer

from consent_service.infra.timed_tokens import hmac_sha256_serializer
from consent_service.jurisdictions.regions import normalise_region
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import REGION_PATTERN
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime

SALT = "consent-service/banner-preview/v1"
MAX_AGE_SECONDS = 10 * 60
# The regions that show a regime best, most telling first (California: the opt-out links, GPC
# and its status). The rulebook has the last word: a region whose law changed is skipped.
PREFERRED_EXAMPLES = {
    Regime.OPT_IN: ("FR", "DE"),
    Regime.OPT_OUT: ("US-CA", "US-VA"),
    Regime.NOTICE: ("JP", "AU"),
}


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


def regime_examples(*, on: dt.date) -> dict[Regime, Jurisdiction]:
    """For each regime some region has on ``on``, the rule of one such region: a preferred one
    if its rule still has that regime, else the first region in the rulebook that does."""
    codes = sorted(code for code in rulebook() if REGION_PATTERN.fullmatch(code))
    examples: dict[Regime, Jurisdiction] = {}
    for regime in Regime:
        for code in (*PREFERRED_EXAMPLES[regime], *codes):
            rule = jurisdiction_for_region(code, on=on)
            if rule.code == code and rule.regime is regime:
                examples[regime] = rule
                break
    return examples
