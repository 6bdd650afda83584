"""Domain errors. They know nothing of HTTP; ``problems.py`` maps each to a status code."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One problem with one input field, addressed by a JSON Pointer (RFC 6901)."""

    pointer: str
    detail: str


class ConsentServiceError(Exception):
    """Base of every error a caller can act on. ``code`` names its problem type."""

    code = "consent-service-error"
    title = "Consent service error"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ValidationFailed(ConsentServiceError):
    code = "validation-failed"
    title = "The request is not valid"


class MalformedRequest(ConsentServiceError):
    code = "malformed-request"
    title = "The request body cannot be read"


class UnknownProperty(ConsentServiceError):
    code = "unknown-property"
    title = "No such property"


class UnknownPolicy(ConsentServiceError):
    code = "unknown-policy"
    title = "No such policy document or version"


class PolicyVersionNotCurrent(ConsentServiceError):
    code = "policy-version-not-current"
    title = "The policy version is not the current one"


class UnknownPurpose(ConsentServiceError):
    code = "unknown-purpose"
    title = "Unknown purpose"


class PublishedVersionImmutable(ConsentServiceError):
    code = "published-version-immutable"
    title = "Published policy versions cannot change"


class OriginNotAllowed(ConsentServiceError):
    code = "origin-not-allowed"
    title = "This website may not record consent for this property"


class ConcurrentConsentWrite(ConsentServiceError):
    code = "concurrent-consent-write"
    title = "Another consent for this subject was recorded at the same moment"


class InvalidCredentials(ConsentServiceError):
    code = "invalid-credentials"
    title = "Missing, invalid or revoked credentials"


class InsufficientScope(ConsentServiceError):
    code = "insufficient-scope"
    title = "The credentials do not allow this"


class SubjectNotAccessible(ConsentServiceError):
    code = "subject-not-accessible"
    title = "This subject is not one of this property's"


class InvalidIdentityToken(ConsentServiceError):
    code = "invalid-identity-token"
    title = "The identity token is forged, expired or for another property"


class IdentityConflict(ConsentServiceError):
    code = "identity-conflict"
    title = "This identity is already linked differently"


class UnknownApiKey(ConsentServiceError):
    code = "unknown-api-key"
    title = "No such API key"


class UnknownWebhookEndpoint(ConsentServiceError):
    code = "unknown-webhook-endpoint"
    title = "No such webhook endpoint"


class RateLimited(ConsentServiceError):
    code = "rate-limited"
    title = "Too many requests for this API key"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class InvalidUnsubscribeLink(ConsentServiceError):
    code = "invalid-unsubscribe-link"
    title = "The unsubscribe link is not valid"
