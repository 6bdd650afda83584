"""The one error model: every domain error derives from ``ConsentServiceError`` and carries
its problem type's ``code``, ``title``, ``status`` and ``description`` as class attributes.
``problems.py`` turns any of them into RFC 9457 problem details (or, under the admin, an HTML
error page), ``/problems/<code>`` documents them and the OpenAPI document lists them, all from
these attributes; a new error is one class here (or beside the code that raises it) and
nothing else.

Not every error is a documented problem type: one a client never receives as problem details
(an admin form's refusal, a self-service page's, a start-up failure) states no
``description`` of its own and says why in its docstring. :class:`InternalError` is the family
of those that are the service's own fault.

``status`` is an ``http.HTTPStatus`` (standard library): it says what kind of failure this is,
which every surface maps the same way; the domain still imports nothing of Flask.
"""

from __future__ import annotations

import dataclasses
from http import HTTPStatus
from typing import ClassVar

# RFC 9110 (§15.5.14, §15.5.21) renamed two statuses Python 3.11's ``HTTPStatus`` still
# calls by their RFC 7231 names ("Request Entity Too Large", "Unprocessable Entity").
_RFC9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def status_title(status: int) -> str:
    """The reason phrase RFC 9110 gives ``status``: the title of an ``about:blank`` problem."""
    return _RFC9110_TITLES.get(status) or HTTPStatus(status).phrase


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One problem with one input field, addressed by a JSON Pointer (RFC 6901)."""

    pointer: str
    detail: str


class ConsentServiceError(Exception):
    """Base of every domain error. ``code`` names its problem type; a class without a
    ``description`` of its own is a family, or an error no client receives as problem details
    (see :func:`problem_types`)."""

    code: ClassVar[str] = "consent-service-error"
    title: ClassVar[str] = "Consent service error"
    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST
    description: ClassVar[str] = ""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InternalError(ConsentServiceError):
    """Family of errors that are the service's own to fix, never the caller's: its
    configuration, data files or keys, or stored data failing an integrity check. No
    ``description``: not a documented problem type. A surface answers one as any unexpected
    error (logged, an opaque 500), since its detail may name internals; the CLI shows the
    detail to the operator."""

    code = "internal-error"
    title = "Internal error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR


class ValidationFailed(ConsentServiceError):
    code = "validation-failed"
    title = "The request is not valid"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    description = (
        "A field is missing, of the wrong type, or not allowed. `errors[]` lists each one "
        "with a JSON Pointer to it. Fix the request; do not retry as is."
    )


class MalformedRequest(ConsentServiceError):
    code = "malformed-request"
    title = "The request body cannot be read"
    status = HTTPStatus.BAD_REQUEST
    description = (
        "The body is not UTF-8 JSON, or holds more than the service reads: nesting deeper "
        "than 16 levels, an integer longer than 20 digits, or a number that is not finite."
    )


class UnknownProperty(ConsentServiceError):
    code = "unknown-property"
    title = "No such property"
    status = HTTPStatus.NOT_FOUND
    description = "No property has this id. Check the data-property attribute."


class UnknownPolicy(ConsentServiceError):
    code = "unknown-policy"
    title = "No such policy document or version"
    status = HTTPStatus.NOT_FOUND
    description = "The policy document or version does not exist or is unpublished."


class PolicyVersionNotCurrent(ConsentServiceError):
    code = "policy-version-not-current"
    title = "The policy version is not the current one"
    status = HTTPStatus.CONFLICT
    description = (
        "The person saw a policy version that is no longer (or not yet) current. Show the "
        "current version and ask again."
    )


class UnknownPurpose(ConsentServiceError):
    code = "unknown-purpose"
    title = "Unknown purpose"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    description = (
        "A decision names a purpose the property does not offer. Fetch the property's "
        "purposes and send decisions for exactly those."
    )


class PublishedVersionImmutable(ConsentServiceError):
    code = "published-version-immutable"
    title = "Published policy versions cannot change"
    status = HTTPStatus.CONFLICT
    description = (
        "A published policy version never changes, so the receipts that cite it stay true. "
        "Create a new draft instead."
    )


class OriginNotAllowed(ConsentServiceError):
    code = "origin-not-allowed"
    title = "This website may not record consent for this property"
    status = HTTPStatus.FORBIDDEN
    description = (
        "The page that sent the choice is not on the property's list of allowed origins. Add "
        "the shop's origin (scheme://host[:port]) to the property."
    )


class ConcurrentConsentWrite(ConsentServiceError):
    code = "concurrent-consent-write"
    title = "Another consent for this subject was recorded at the same moment"
    status = HTTPStatus.CONFLICT
    description = "Two choices for the same person arrived at once. Retry."


class InvalidCredentials(ConsentServiceError):
    code = "invalid-credentials"
    title = "Missing, invalid or revoked credentials"
    status = HTTPStatus.UNAUTHORIZED
    description = (
        "The request carries no API key, a malformed one, or one that is unknown or revoked. "
        "Send 'Authorization: Bearer csk_...' with a live key."
    )


class InsufficientScope(ConsentServiceError):
    code = "insufficient-scope"
    title = "The credentials do not allow this"
    status = HTTPStatus.FORBIDDEN
    description = (
        "The API key is valid but lacks the scope this call needs, or names another property. "
        "Create a key with the scope for the right property."
    )


class SubjectNotAccessible(ConsentServiceError):
    code = "subject-not-accessible"
    title = "This subject is not one of this property's"
    status = HTTPStatus.FORBIDDEN
    description = (
        "The subject id is not one of this property's subjects. Whether it exists elsewhere "
        "is deliberately not said."
    )


class InvalidIdentityToken(ConsentServiceError):
    code = "invalid-identity-token"
    title = "The identity token is forged, expired, used, or for another property or visitor"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    description = (
        "The identity token does not verify with any of the property's live identity secrets, "
        "has expired, was already used (a token links once), was made for another property "
        "or another visitor, or is in the old format that names no visitor and no nonce. "
        "Nothing was linked. Sign a fresh token for this visitor on the shop's backend."
    )


class IdentityConflict(ConsentServiceError):
    code = "identity-conflict"
    title = "This identity is already linked differently"
    status = HTTPStatus.CONFLICT
    description = (
        "The customer reference, email or browser is already linked to a different customer. "
        "Nothing was changed; customers are never merged implicitly."
    )


class UnknownApiKey(ConsentServiceError):
    code = "unknown-api-key"
    title = "No such API key"
    status = HTTPStatus.NOT_FOUND
    description = "No API key has this public id."


class UnknownWebhookEndpoint(ConsentServiceError):
    code = "unknown-webhook-endpoint"
    title = "No such webhook endpoint"
    status = HTTPStatus.NOT_FOUND
    description = "This property has no webhook endpoint with this id."


class RetryLater(ConsentServiceError):
    """Family of errors that pass: each carries the seconds to wait (``Retry-After``)."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    code = "rate-limited"
    title = "Too many requests for this API key"
    status = HTTPStatus.TOO_MANY_REQUESTS
    description = (
        "The API key has used up its requests for the current window. Wait the number of "
        "seconds in Retry-After; ask for a higher limit if this is steady load."
    )


class DatabaseUnavailable(RetryLater):
    code = "database-unavailable"
    title = "The database is not answering"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    description = (
        "The service could not reach its database within its time budget, so it answered "
        "nothing rather than guess: take a look-up answered so as denied, and a write as not "
        "made. Retry after the number of seconds in Retry-After."
    )


class InvalidUnsubscribeLink(ConsentServiceError):
    code = "invalid-unsubscribe-link"
    title = "The unsubscribe link is not valid"
    status = HTTPStatus.BAD_REQUEST
    description = (
        "The unsubscribe link's token is missing, altered or was not made by this service. "
        "Nothing was changed; use the link from the email as it is."
    )


class KeyStoreUnavailable(RetryLater):
    code = "key-store-unavailable"
    title = "The key store is not answering"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    description = (
        "The service could not reach the store of per-person keys that seal personal data, so "
        "it neither read nor wrote that person's data (it never stores it unsealed). Retry "
        "after the number of seconds in Retry-After."
    )


def problem_types() -> dict[str, type[ConsentServiceError]]:
    """Every documented problem type by code: each subclass, however deep, that states its own
    ``description`` (a family base without one is not a type a client can receive)."""
    found: dict[str, type[ConsentServiceError]] = {}
    pending: list[type[ConsentServiceError]] = list(ConsentServiceError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "description" in vars(cls):
            found[cls.code] = cls
    return dict(sorted(found.items()))
