"""The proof of an erasure: a statement of what was erased and when, signed like a receipt.

A compact JWS with the receipts' Ed25519 key (verifiable with the same JWKS), ``typ``
:data:`STATEMENT_TYP` so that nobody can pass it off as a receipt or a receipt as it, and
schema :data:`STATEMENT_SCHEMA`. It names the person only by the pseudonymous subject ids
their receipts carry (no email, customer reference or visitor id), so the person, the shop and
a regulator can each keep a copy, and the service can keep it on the request for as long as
erasure records are kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from consent_service.consent.receipts import Issuer
from consent_service.infra.timed_tokens import dated_signer
from consent_service.infra.times import rfc3339_millis
from consent_service.models import ErasureRequest

STATEMENT_TYP = "erasure-statement+jws"
STATEMENT_SCHEMA = "consent-service/erasure-statement/v1"
MEDIA_TYPE = "application/jose"
# The erased person has no session any more: the page shown right after erasure links the
# statement with a token naming only that request, signed with the app's secret, this long.
DOWNLOAD_SALT = "consent-service/erasure-statement/v1"
DOWNLOAD_LIFETIME = dt.timedelta(days=1)

# What stays, and why; stated in every statement so that it says what it does not cover.
KEPT = (
    "consent receipts, signed and hash-chained, under the pseudonymous subject ids above:"
    " proof of what was consented and when, which the law lets a controller keep",
    "this statement and the erasure request (the record of the request the law asks for)",
    "audit-log entries of the request, by pseudonymous id",
)


@dataclasses.dataclass(frozen=True)
class Counts:
    """How many records of each kind the erasure withdrew, wiped, rewrote or deleted."""

    receipts_withdrawn: int = 0
    identity_pii_wiped: int = 0
    decision_log_entries_pseudonymised: int = 0
    outbox_payloads_redacted: int = 0
    outbox_payloads_redacted_once_delivered: int = 0
    emails_cancelled: int = 0
    sessions_ended: int = 0
    sign_in_links_deleted: int = 0
    email_subscriptions_deleted: int = 0
    # The person's own data key, destroyed (crypto-shredding, the key store's count); None
    # where no key store took part.
    person_keys_shredded: int | None = None


def statement_payload(
    request: ErasureRequest,
    *,
    property_key: str,
    subject_ids: Sequence[uuid.UUID],
    counts: Counts,
    issuer: Issuer,
) -> dict[str, object]:
    """The signed content: ids, times, the law's deadline and the counts (never PII)."""
    assert request.completed_at is not None
    return {
        "schema": STATEMENT_SCHEMA,
        "issuer": issuer.base_url,
        "erasure_request_id": str(request.id),
        "property": property_key,
        "subject_ids": sorted(str(s) for s in subject_ids),
        "subject_kind": "customer" if request.identity_id is not None else "browser",
        "jurisdiction": request.jurisdiction,
        "law": request.law,
        "requested_at": rfc3339_millis(request.requested_at),
        "completed_at": rfc3339_millis(request.completed_at),
        "due_at": rfc3339_millis(request.due_at),
        "erased": dataclasses.asdict(counts),
        "kept": list(KEPT),
    }


def sign_statement(
    request: ErasureRequest,
    *,
    property_key: str,
    subject_ids: Sequence[uuid.UUID],
    counts: Counts,
    issuer: Issuer,
) -> None:
    """Sign the statement and keep it, with its counts, on ``request`` (the caller's
    transaction). The key is registered first: the JWKS must publish what signed it."""
    payload = statement_payload(
        request, property_key=property_key, subject_ids=subject_ids, counts=counts, issuer=issuer
    )
    request.statement_jws = issuer.key.sign(payload, typ=STATEMENT_TYP)
    request.summary = dataclasses.asdict(counts)


def statement_filename(request: ErasureRequest) -> str:
    return f"erasure-{request.id}.jws"


def download_token(
    secret_key: str, request_id: uuid.UUID, *, signed_at: dt.datetime | None = None
) -> str:
    """The token of a statement's download link (see DOWNLOAD_LIFETIME)."""
    serializer = URLSafeTimedSerializer(
        secret_key, salt=DOWNLOAD_SALT, signer=dated_signer(signed_at)
    )
    return str(serializer.dumps(request_id.hex))


def downloadable_statement(
    session: Session, secret_key: str, request_id: uuid.UUID, token: str
) -> ErasureRequest | None:
    """The request whose statement ``token`` lets its holder download, if it is
    ``request_id``'s and still valid; None otherwise, whatever the reason (a forged, expired
    or other request's token, an unknown id: a download must not tell them apart)."""
    serializer = URLSafeTimedSerializer(secret_key, salt=DOWNLOAD_SALT)
    try:
        named = serializer.loads(token, max_age=int(DOWNLOAD_LIFETIME.total_seconds()))
    except BadData:
        return None
    if named != request_id.hex:
        return None
    request = session.get(ErasureRequest, request_id)
    if request is None or request.statement_jws is None:
        return None
    return request
