"""SQLAlchemy models: structure and invariants only; business rules live in the domain modules."""

from consent_service.models.base import Base
from consent_service.models.consent import ConsentReceipt
from consent_service.models.consent import ConsentState
from consent_service.models.consent import SigningKeyRecord
from consent_service.models.identity import Identity
from consent_service.models.identity import IdentitySecret
from consent_service.models.integration import ApiKey
from consent_service.models.integration import DecisionLogEntry
from consent_service.models.outbox import OutboxMessage
from consent_service.models.outbox import OutboxStatus
from consent_service.models.outbox import WebhookEndpoint
from consent_service.models.policy import PolicyDocument
from consent_service.models.policy import PolicyVersion
from consent_service.models.policy import VersionStatus
from consent_service.models.property import Property
from consent_service.models.property import Purpose
from consent_service.models.property import Vendor
from consent_service.models.property import vendor_purposes
from consent_service.models.subject import Subject

__all__ = [
    "ApiKey",
    "Base",
    "ConsentReceipt",
    "ConsentState",
    "DecisionLogEntry",
    "Identity",
    "IdentitySecret",
    "OutboxMessage",
    "OutboxStatus",
    "PolicyDocument",
    "PolicyVersion",
    "Property",
    "Purpose",
    "SigningKeyRecord",
    "Subject",
    "Vendor",
    "VersionStatus",
    "WebhookEndpoint",
    "vendor_purposes",
]
