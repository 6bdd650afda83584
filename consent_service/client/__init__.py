"""The Python client for shop backends: ask before processing, verify webhooks, sign
identity tokens. Standard library only, so any backend can install it next to its own
framework; nothing here imports the server.

    from consent_service.client import ConsentClient

    consent = ConsentClient("https://consent.example", os.environ["CONSENT_API_KEY"])
    if consent.may_process(f"customer:{order.customer_id}", "analytics"):
        track(order)
"""

from __future__ import annotations

from consent_service.client.client import ConsentClient
from consent_service.client.client import Link
from consent_service.client.consent_mode import CONSENT_TYPES
from consent_service.client.consent_mode import DEMO_SHOP_CONSENT_MODE
from consent_service.client.consent_mode import consent_mode
from consent_service.client.consent_mode import ga4_consent
from consent_service.client.consent_mode import mapping_from_banner
from consent_service.client.decision import Decision
from consent_service.client.decision import Reason
from consent_service.client.errors import ConsentDenied
from consent_service.client.errors import ServiceError
from consent_service.client.errors import WebhookVerificationError
from consent_service.client.identity import sign_identity_token
from consent_service.client.identity import visitor_id_from_cookie
from consent_service.client.webhooks import verify_webhook

__all__ = [
    "CONSENT_TYPES",
    "DEMO_SHOP_CONSENT_MODE",
    "ConsentClient",
    "ConsentDenied",
    "Decision",
    "Link",
    "Reason",
    "ServiceError",
    "WebhookVerificationError",
    "consent_mode",
    "ga4_consent",
    "mapping_from_banner",
    "sign_identity_token",
    "verify_webhook",
    "visitor_id_from_cookie",
]
