"""SQLAlchemy models: structure and invariants only; business rules live in the domain modules."""

from consent_service.models.admin import AdminRole
from consent_service.models.admin import AdminUser
from consent_service.models.admin import AuditEntry
from consent_service.models.base import Base
from consent_service.models.consent import ConsentReceipt
from consent_service.models.consent import ConsentState
from consent_service.models.consent import SigningKeyRecord
from consent_service.models.identity import Identity
from consent_service.models.identity import IdentitySecret
from consent_service.models.identity import IdentityTokenUse
from consent_service.models.integration import ApiKey
from consent_service.models.integration import DecisionLogEntry
from consent_service.models.notifications import EmailCampaign
from consent_service.models.notifications import EmailSubscription
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
from consent_service.models.retention import RetentionCutoff
from consent_service.models.scan import ScanReport
from consent_service.models.scan import ScanStatus
from consent_service.models.scan import ScanTrigger
from consent_service.models.self_service import ErasureRequest
from consent_service.models.self_service import MagicLink
from consent_service.models.subject import Subject
from consent_service.models.web_session import WebSession

__all__ = [
    "AdminRole",
    "AdminUser",
    "ApiKey",
    "AuditEntry",
    "Base",
    "ConsentReceipt",
    "ConsentState",
    "DecisionLogEntry",
    "EmailCampaign",
    "EmailSubscription",
    "ErasureRequest",
    "Identity",
    "IdentitySecret",
    "IdentityTokenUse",
    "MagicLink",
    "OutboxMessage",
    "OutboxStatus",
    "PolicyDocument",
    "PolicyVersion",
    "Property",
    "Purpose",
    "RetentionCutoff",
    "ScanReport",
    "ScanStatus",
    "ScanTrigger",
    "SigningKeyRecord",
    "Subject",
    "Vendor",
    "VersionStatus",
    "WebSession",
    "WebhookEndpoint",
    "vendor_purposes",
]
