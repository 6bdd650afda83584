"""The Python client for shop backends: ask before processing, verify consent tokens and
webhooks, sign identity tokens. Standard library only, so any backend can install it next to
its own framework (``consent-client[fast]`` adds ``cryptography`` for faster token checks);
nothing here imports the server.

    from consent_client import ConsentClient

    consent = ConsentClient("https://consent.example", os.environ["CONSENT_API_KEY"])
    if consent.may_process(f"customer:{order.customer_id}", "analytics"):
        track(order)
"""

from __future__ import annotations

from consent_client.client import ConsentClient
from consent_client.client import Link
from consent_client.consent_mode import CONSENT_TYPES
from consent_client.consent_mode import DEMO_SHOP_CONSENT_MODE
from consent_client.consent_mode import consent_mode
from consent_client.consent_mode import ga4_consent
from consent_client.consent_mode import mapping_from_banner
from consent_client.decision import Decision
from consent_client.decision import Reason
from consent_client.errors import ConsentDenied
from consent_client.errors import ConsentTokenUnverifiable
from consent_client.errors import InvalidConsentToken
from consent_client.errors import ServiceError
from consent_client.errors import WebhookVerificationError
from consent_client.identity import sign_identity_token
from consent_client.identity import visitor_id_from_cookie
from consent_client.platforms import DEFAULT_PLATFORM_MAPPING
from consent_client.platforms import PLATFORM_SIGNALS
from consent_client.platforms import PlatformConsent
from consent_client.platforms import PlatformMapping
from consent_client.platforms import amazon_events_api
from consent_client.platforms import ga4_measurement_protocol
from consent_client.platforms import google_ads
from consent_client.platforms import meta_conversions_api
from consent_client.platforms import microsoft_conversions_api
from consent_client.platforms import platform_signals
from consent_client.tokens import ConsentTokenClaims
from consent_client.tokens import ConsentTokenVerifier
from consent_client.tokens import allows
from consent_client.webhooks import verify_webhook

__all__ = [
    "CONSENT_TYPES",
    "DEFAULT_PLATFORM_MAPPING",
    "DEMO_SHOP_CONSENT_MODE",
    "PLATFORM_SIGNALS",
    "ConsentClient",
    "ConsentDenied",
    "ConsentTokenClaims",
    "ConsentTokenUnverifiable",
    "ConsentTokenVerifier",
    "Decision",
    "InvalidConsentToken",
    "Link",
    "PlatformConsent",
    "PlatformMapping",
    "Reason",
    "ServiceError",
    "WebhookVerificationError",
    "allows",
    "amazon_events_api",
    "consent_mode",
    "ga4_consent",
    "ga4_measurement_protocol",
    "google_ads",
    "mapping_from_banner",
    "meta_conversions_api",
    "microsoft_conversions_api",
    "platform_signals",
    "sign_identity_token",
    "verify_webhook",
    "visitor_id_from_cookie",
]
