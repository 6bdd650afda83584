"""Signed webhooks (Standard Webhooks v1): endpoints, events into the outbox, signatures.

An event becomes one outbox row per live endpoint of the property subscribed to its type,
written in the transaction of the change that caused it: the change and its notification
commit or roll back together. The row's id is the message's ``webhook-id``, stable across
retries, so receivers de-duplicate on it. Payloads are thin (ids and the new state, never an
email): receivers look anything else up through the API.

Delivery is :class:`WebhookChannel`, one channel of the generic outbox engine (``outbox.py``);
the HTTP transport itself (SSRF guard, no redirects) is ``http_transport.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email.utils
import enum
import functools
import hashlib
import hmac
import json
import os
import urllib.parse
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from consent_service.errors import ConsentServiceError
from consent_service.errors import FieldError
from consent_service.errors import KeyStoreUnavailable
from consent_service.errors import UnknownWebhookEndpoint
from consent_service.errors import ValidationFailed
from consent_service.infra.addresses import is_public_address
from consent_service.infra.addresses import literal_address
from consent_service.infra.audit import Actor
from consent_service.infra.audit import record_as
from consent_service.infra.database import execute_core
from consent_service.infra.driver_statements import DriverStatement
from consent_service.infra.pii import CUSTOMER
from consent_service.infra.pii import Cipher
from consent_service.infra.pii import UndecryptableData
from consent_service.infra.pii import Vault
from consent_service.infra.times import rfc3339_millis
from consent_service.messaging.outbox import ClaimedMessage
from consent_service.messaging.outbox import NewMessage
from consent_service.messaging.outbox import Outcome
from consent_service.messaging.outbox import Send
from consent_service.messaging.outbox import Verdict
from consent_service.messaging.outbox import bury_pending
from consent_service.messaging.outbox import enqueue
from consent_service.models import ConsentReceipt
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Subject
from consent_service.models import WebhookEndpoint
from consent_service.models.base import new_id
from consent_service.models.base import utcnow

CHANNEL = "webhook"
SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
# The reference libraries' tolerance for a message's timestamp against the receiver's clock.
TOLERANCE = dt.timedelta(minutes=5)
USER_AGENT = "consent-service-webhooks/1"
_MAX_URL = 2000
_BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class EventType(enum.StrEnum):
    CONSENT_CHANGED = "consent.changed"
    SUBJECT_ERASED = "subject.erased"
    POLICY_PUBLISHED = "policy.published"
    # A compliance scan finished (``scanning.storage.store_report``): its counts, never findings.
    SCAN_COMPLETED = "scan.completed"


EVENT_TYPES = tuple(e.value for e in EventType)


class InvalidWebhookSignature(ConsentServiceError):
    """Headers missing, timestamp outside the tolerance, or no signature matches. Raised to
    code that receives this service's webhooks (a shop's receiver, the tests); the service
    never answers a request with it, so it is not a documented problem type."""

    code = "invalid-webhook-signature"
    title = "The webhook's signature does not verify"
    status = HTTPStatus.BAD_REQUEST


# --- signing ---------------------------------------------------------------------------------


def generate_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def webhook_id(message_id: uuid.UUID) -> str:
    return f"msg_{message_id.hex}"


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """``v1,`` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))."""
    digest = hmac.new(
        secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256
    ).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    body: str,
    headers: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    tolerance: dt.timedelta = TOLERANCE,
) -> None:
    """What a receiver does: check the timestamp, then any ``v1`` signature, in constant time."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and raw_timestamp and signatures):
        raise InvalidWebhookSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise InvalidWebhookSignature("webhook-timestamp is not an integer") from None
    moment = (now or utcnow()).timestamp()
    if abs(moment - timestamp) > tolerance.total_seconds():
        raise InvalidWebhookSignature("webhook-timestamp is outside the tolerance")
    expected = sign(secret, msg_id, timestamp, body)
    for candidate in signatures.split():
        if candidate.startswith(f"{SIGNATURE_VERSION},") and hmac.compare_digest(
            candidate.encode(), expected.encode()
        ):
            return
    raise InvalidWebhookSignature("no signature matches")


# --- endpoints -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RegisteredEndpoint:
    endpoint: WebhookEndpoint
    secret: str = dataclasses.field(repr=False)  # shown once, stored only encrypted


def register_endpoint(
    session: Session,
    cipher: Cipher,
    *,
    property_id: int,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    allow_private_networks: bool = False,
    now: dt.datetime | None = None,
) -> RegisteredEndpoint:
    errors = url_problems(url, allow_private_networks=allow_private_networks)
    errors += [
        FieldError(f"/event_types/{i}", "must be one of: " + ", ".join(EVENT_TYPES))
        for i, name in enumerate(event_types)
        if name not in EVENT_TYPES
    ]
    if not event_types:
        errors.append(FieldError("/event_types", "at least one event type is required"))
    if len(description) > 200:
        errors.append(FieldError("/description", "at most 200 characters"))
    if errors:
        raise ValidationFailed("the webhook endpoint cannot be registered as asked", errors=errors)
    endpoint_id = new_id()
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        property_id=property_id,
        url=url,
        description=description.strip(),
        event_types=event_types_of(event_types),
        secret_ciphertext=cipher.encrypt(secret, context=_secret_context(endpoint_id)),
        created_at=now or utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return RegisteredEndpoint(endpoint, secret)


def record_endpoint_registered(
    session: Session, who: Actor, endpoint: WebhookEndpoint, property_key: str
) -> None:
    """Audit a new endpoint in the transaction that made it: every surface that registers one
    (admin, CLI, the API) calls this, since an endpoint receives personal data."""
    record_as(
        session,
        who,
        "webhook.created",
        target_type="webhook_endpoint",
        target_id=str(endpoint.id),
        before=None,
        after={"property": property_key, "url": endpoint.url, "events": endpoint.event_types},
    )


def record_endpoint_disabled(session: Session, who: Actor, endpoint: WebhookEndpoint) -> None:
    """Audit switching an endpoint off from the CLI or the API (the admin says more)."""
    record_as(
        session,
        who,
        "webhook.disabled",
        target_type="webhook_endpoint",
        target_id=str(endpoint.id),
        before={"disabled": False},
        after={"disabled": True, "url": endpoint.url, "reason": endpoint.disabled_reason},
    )


def url_problems(url: str, *, allow_private_networks: bool) -> list[FieldError]:
    """What is wrong with ``url`` as a webhook target, as field errors (empty: fine).

    Names are only checked here as written (a literal private address, ``localhost``); the
    worker resolves the host before every delivery, since DNS can change after registration.
    """

    def problem(detail: str) -> list[FieldError]:
        return [FieldError("/url", detail)]

    if len(url) > _MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return problem(f"must be a URL of at most {_MAX_URL} characters, without spaces")
    parts = urllib.parse.urlsplit(url)
    allowed = ("https", "http") if allow_private_networks else ("https",)
    if parts.scheme not in allowed:
        return problem("must be an https:// URL")
    if not parts.hostname:
        return problem("must name a host")
    if parts.username is not None or parts.password is not None:
        return problem("must not carry credentials; the signature authenticates the sender")
    if parts.fragment:
        return problem("must not have a #fragment")
    try:
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        return problem("has an invalid port")
    if not allow_private_networks and not is_public_host(parts.hostname):
        return problem("must be a public address, not a loopback, private or local one")
    return []


def is_public_host(host: str) -> bool:
    """False for local names and for literal addresses that do not reach the public internet
    (judged after unwrapping any IPv4 address an IPv6 one carries: see infra.addresses)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(_BLOCKED_HOST_SUFFIXES):
        return False
    address = literal_address(host)
    if address is None:
        return True  # a name: resolved and checked at delivery time
    return is_public_address(address)


def list_endpoints(session: Session, property_id: int) -> list[WebhookEndpoint]:
    """Every endpoint of the property, disabled ones too (so a 410-disabled one is visible)."""
    return list(
        session.scalars(
            sa.select(WebhookEndpoint)
            .where(WebhookEndpoint.property_id == property_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def delivery_counts(session: Session, property_id: int) -> dict[uuid.UUID, dict[str, int]]:
    """Messages per endpoint and status, for showing a property its backlog and dead letters."""
    query = (
        sa.select(OutboxMessage.endpoint_id, OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.property_id == property_id, OutboxMessage.channel == CHANNEL)
        .group_by(OutboxMessage.endpoint_id, OutboxMessage.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for endpoint_id, status, count in session.execute(query):
        if endpoint_id is not None:
            counts.setdefault(endpoint_id, {})[status] = count
    return counts


def get_endpoint(session: Session, property_id: int, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The property's endpoint; another property's is as unknown as one that never existed."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.property_id != property_id:
        raise UnknownWebhookEndpoint(f"there is no webhook endpoint {endpoint_id}")
    return endpoint


def disable_endpoint(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    reason: str,
    now: dt.datetime | None = None,
) -> WebhookEndpoint:
    """Stop sending to ``endpoint`` (soft: the row and its messages stay, for the record).
    Its pending messages become dead. Disabling twice keeps the first reason."""
    if endpoint.disabled_at is None:
        endpoint.disabled_at = now or utcnow()
        endpoint.disabled_reason = reason[:500]
        session.flush()
        bury_pending(session, endpoint_id=endpoint.id, reason=f"endpoint disabled: {reason}")
    return endpoint


def endpoint_secret(cipher: Cipher, endpoint_id: uuid.UUID, ciphertext: bytes) -> str:
    return cipher.decrypt(ciphertext, context=_secret_context(endpoint_id))


def _secret_context(endpoint_id: uuid.UUID) -> str:
    return f"webhook-secret:{endpoint_id}"


# --- events ----------------------------------------------------------------------------------


def emit_event(
    session: Session,
    property_id: int,
    event_type: EventType | str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> list[uuid.UUID]:
    """Queue ``event_type`` for every live endpoint of the property that subscribes to it, in
    the caller's transaction; returns the outbox ids (the messages' webhook-ids)."""
    kind = EventType(event_type)  # an unknown type is a bug: ValueError
    endpoints = subscribed_endpoints(session, property_id, kind)
    return _enqueue(session, property_id, kind, endpoints, data, now)


def subscribed_endpoints(
    session: Session, property_id: int, event_type: EventType | str
) -> list[uuid.UUID]:
    """Ids of the property's live endpoints subscribed to ``event_type``: one indexed query
    (on the consent hot path), the JSON list filtered here rather than in dialect SQL."""
    rows = _ENDPOINTS.rows(session, {"property_id": property_id})
    return [endpoint_id for endpoint_id, types in rows if event_type in (types or ())]


def event_body(event_type: str, data: Mapping[str, Any], now: dt.datetime) -> str:
    """The exact bytes sent and signed: minified JSON ``{"type", "timestamp", "data"}``."""
    return json.dumps(
        {"type": event_type, "timestamp": rfc3339_millis(now), "data": data},
        separators=(",", ":"),
        ensure_ascii=True,
    )


def emit_consent_changed(
    session: Session,
    receipt: Mapping[str, Any],
    *,
    property_key: str,
    visitor_id: uuid.UUID,
    policy_version: int,
) -> list[uuid.UUID]:
    """``consent.changed`` for a receipt just written (its column values). Costs one query when
    no endpoint listens; the previous decisions and customer reference are read only if one does.
    """
    property_id: int = receipt["property_id"]
    endpoints = subscribed_endpoints(session, property_id, EventType.CONSENT_CHANGED)
    if not endpoints:
        return []
    subject_id: uuid.UUID = receipt["subject_id"]
    row = execute_core(
        session, _subject_facts_query(), {"subject_id": subject_id, "seq": receipt["seq"] - 1}
    ).one()
    previous: Mapping[str, str] = row.previous or {}
    decisions: Mapping[str, str] = receipt["decisions"]
    data = _consent_changed_data(
        property_key=property_key,
        subject_id=subject_id,
        visitor_id=visitor_id,
        receipt_id=receipt["id"],
        policy_version=policy_version,
        jurisdiction=receipt["jurisdiction"],
        method=receipt["method"],
        gpc=receipt["gpc"],
        decisions=decisions,
        changed=[key for key, value in decisions.items() if previous.get(key) != value],
    )
    return _enqueue(
        session,
        property_id,
        EventType.CONSENT_CHANGED,
        endpoints,
        data,
        receipt["issued_at"],
        identity_id=row.identity_id,
    )


def _consent_changed_data(
    *,
    property_key: str,
    subject_id: uuid.UUID,
    visitor_id: uuid.UUID,
    receipt_id: uuid.UUID,
    policy_version: int,
    jurisdiction: str,
    method: str,
    gpc: bool,
    decisions: Mapping[str, str],
    changed: list[str],
) -> dict[str, Any]:
    """The one shape of a ``consent.changed`` event, whether a receipt or a link caused it
    (the governing receipt's facts, the decisions now in effect, what changed)."""
    return {
        "property": property_key,
        "subject_id": str(subject_id),
        "visitor_id": str(visitor_id),
        # Filled in at delivery from the identity, sealed with the person's key until then:
        # the outbox (and its backups) never hold the reference in plain text.
        "customer_ref": None,
        "receipt_id": str(receipt_id),
        "policy_version": policy_version,
        "jurisdiction": jurisdiction,
        "method": method,
        "gpc": gpc,
        "decisions": dict(decisions),
        "changed_purposes": changed,
    }


def emit_link_consent_changed(
    session: Session,
    property_id: int,
    identity_id: uuid.UUID,
    subject_id: uuid.UUID,
    *,
    now: dt.datetime,
) -> list[uuid.UUID]:
    """``consent.changed`` for a customer when linking a browser (``subject_id``) to them
    changes their effective answer (per purpose, the most recent choice on any of their
    browsers, as ``customer:`` decisions answer). A link that follows the choice (a backend's
    ``link()``, a token on a later page; the widget itself links before a first choice) finds
    that receipt's own event sent, or queued, without the customer: a receiver suppressing by
    customer would miss the change.

    Where that receipt's event has not been attempted yet, it is made the customer's (its
    ``customer_ref`` is filled at delivery) and nothing is added for its endpoint; every other
    subscribed endpoint gets a new event, shaped like a receipt's: the governing receipt's
    facts, the customer's effective ``decisions``, and what the link changed. Costs one query
    when no endpoint listens."""
    endpoints = subscribed_endpoints(session, property_id, EventType.CONSENT_CHANGED)
    if not endpoints:
        return []
    latest = _latest_receipts(session, identity_id)
    governing = next((row for row in latest if row.subject_id == subject_id), None)
    if governing is None:
        return []  # nothing chosen on that browser: linking it changes no answer
    before = _effective_decisions(row for row in latest if row.subject_id != subject_id)
    after = _effective_decisions(latest)
    changed = [key for key, value in after.items() if before.get(key) != value]
    if not changed:
        return []
    attached = _attach_pending_receipt_events(session, property_id, governing.id, identity_id)
    rest = [endpoint for endpoint in endpoints if endpoint not in attached]
    if not rest:
        return []
    facts = session.execute(
        sa.select(Property.key, PolicyVersion.number, Subject.visitor_id)
        .select_from(ConsentReceipt)
        .join(Property, Property.id == ConsentReceipt.property_id)
        .join(PolicyVersion, PolicyVersion.id == ConsentReceipt.policy_version_id)
        .join(Subject, Subject.id == ConsentReceipt.subject_id)
        .where(ConsentReceipt.id == governing.id)
    ).one()
    data = _consent_changed_data(
        property_key=facts.key,
        subject_id=subject_id,
        visitor_id=facts.visitor_id,
        receipt_id=governing.id,
        policy_version=facts.number,
        jurisdiction=governing.jurisdiction,
        method=governing.method,
        gpc=governing.gpc,
        decisions=after,
        changed=changed,
    )
    return _enqueue(
        session,
        property_id,
        EventType.CONSENT_CHANGED,
        rest,
        data,
        now,
        identity_id=identity_id,
    )


def _latest_receipts(session: Session, identity_id: uuid.UUID) -> list[sa.Row[Any]]:
    """The latest receipt of each browser (and account) linked to the customer."""
    same_chain = aliased(ConsentReceipt)
    newest = (
        sa.select(sa.func.max(same_chain.seq))
        .where(same_chain.subject_id == ConsentReceipt.subject_id)
        .correlate(ConsentReceipt)
        .scalar_subquery()
    )
    return list(
        session.execute(
            sa.select(
                ConsentReceipt.id,
                ConsentReceipt.subject_id,
                ConsentReceipt.decisions,
                ConsentReceipt.issued_at,
                ConsentReceipt.jurisdiction,
                ConsentReceipt.method,
                ConsentReceipt.gpc,
            )
            .join(Subject, Subject.id == ConsentReceipt.subject_id)
            .where(Subject.identity_id == identity_id, ConsentReceipt.seq == newest)
        )
    )


def _effective_decisions(receipts: Iterable[sa.Row[Any]]) -> dict[str, str]:
    """Per purpose, the decision of the most recent receipt that names it."""
    effective: dict[str, str] = {}
    for row in sorted(receipts, key=lambda row: row.issued_at):
        effective.update(row.decisions or {})
    return effective


def _attach_pending_receipt_events(
    session: Session, property_id: int, receipt_id: uuid.UUID, identity_id: uuid.UUID
) -> set[uuid.UUID]:
    """Make the receipt's not-yet-attempted ``consent.changed`` rows name the customer (their
    bytes are first made at the first attempt, so no receiver ever sees two versions);
    returns their endpoints."""
    untried = sa.and_(
        OutboxMessage.property_id == property_id,
        OutboxMessage.channel == CHANNEL,
        OutboxMessage.event_type == EventType.CONSENT_CHANGED.value,
        OutboxMessage.status == OutboxStatus.PENDING.value,
        OutboxMessage.attempts == 0,
        OutboxMessage.locked_until.is_(None),
        OutboxMessage.identity_id.is_(None),
        OutboxMessage.payload.contains(f'"receipt_id":"{receipt_id}"'),
    )
    rows = session.execute(sa.select(OutboxMessage.id, OutboxMessage.endpoint_id).where(untried))
    found = {row.id: row.endpoint_id for row in rows}
    if found:
        session.execute(
            sa.update(OutboxMessage)
            .where(untried, OutboxMessage.id.in_(found))
            .values(identity_id=identity_id)
            .execution_options(synchronize_session=False)
        )
    return {endpoint for endpoint in found.values() if endpoint is not None}


def emit_policy_published(
    session: Session, property_id: int, document_key: str, version: PolicyVersion, now: dt.datetime
) -> list[uuid.UUID]:
    """``policy.published``: a material version means choices made before it for the purposes
    it affects are stale (``affected_purposes``; an old material version that named none
    affected every purpose, and is sent as naming them all)."""
    endpoints = subscribed_endpoints(session, property_id, EventType.POLICY_PUBLISHED)
    if not endpoints:
        return []
    property_key = session.scalar(sa.select(Property.key).where(Property.id == property_id))
    effective_at = version.effective_at or now
    data = {
        "property": property_key,
        "document": document_key,
        "version": version.number,
        "sha256": version.sha256,
        "material": version.material,
        "affected_purposes": _affected_purposes(session, property_id, version),
        "effective_at": rfc3339_millis(effective_at),
    }
    return _enqueue(session, property_id, EventType.POLICY_PUBLISHED, endpoints, data, now)


def _affected_purposes(session: Session, property_id: int, version: PolicyVersion) -> list[str]:
    if not version.material:
        return []
    if version.affected_purposes:
        return list(version.affected_purposes)
    every = sa.select(Purpose.key).where(Purpose.property_id == property_id)
    return list(session.scalars(every.order_by(Purpose.position)))


def _enqueue(
    session: Session,
    property_id: int,
    event_type: EventType,
    endpoints: Sequence[uuid.UUID],
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    identity_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    if not endpoints:
        return []
    body = event_body(event_type.value, data, now)
    messages = [
        NewMessage(
            property_id,
            CHANNEL,
            event_type.value,
            body,
            endpoint_id=endpoint_id,
            identity_id=identity_id,
        )
        for endpoint_id in endpoints
    ]
    enqueue(session, messages, now=now)
    return [message.id for message in messages]


def _endpoints_query(_dialect: str) -> sa.Select[uuid.UUID, list[str]]:
    return sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
        WebhookEndpoint.property_id == sa.bindparam("property_id"),
        WebhookEndpoint.disabled_at.is_(None),
    )


# Read on every consent: run on the driver (``infra.driver_statements``).
_ENDPOINTS = DriverStatement(_endpoints_query)


@functools.cache
def _subject_facts_query() -> sa.Select[uuid.UUID | None, Any]:
    previous = (
        sa.select(ConsentReceipt.decisions)
        .where(
            ConsentReceipt.subject_id == sa.bindparam("subject_id"),
            ConsentReceipt.seq == sa.bindparam("seq"),
        )
        .scalar_subquery()
    )
    return (
        sa.select(Identity.id.label("identity_id"), previous.label("previous"))
        .select_from(Subject)
        .outerjoin(Identity, Identity.id == Subject.identity_id)
        .where(Subject.id == sa.bindparam("subject_id"))
    )


# --- delivery (the outbox's webhook channel) --------------------------------------------------


class TransportError(ConsentServiceError):
    """The request never got an HTTP answer (refused address, DNS, TLS, timeout, reset). The
    receiver failed, not a caller: the channel records it on the outbox row and retries, so it
    never leaves the worker and is not a documented problem type."""

    code = "webhook-transport-failed"
    title = "The webhook receiver could not be reached"
    status = HTTPStatus.BAD_GATEWAY


@dataclasses.dataclass(frozen=True)
class HttpAnswer:
    status: int
    retry_after: str | None = None


class Transport(Protocol):
    """POSTs ``body`` to ``url`` without following redirects; raises TransportError."""

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer: ...


_THROTTLED = frozenset({429, 502, 503, 504})


class WebhookChannel:
    """The outbox channel ``webhook``: signed POSTs, the spec's reading of status codes."""

    name = CHANNEL

    def __init__(
        self,
        vault: Vault,
        transport: Transport,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._vault = vault
        self._cipher = vault.cipher
        self._transport = transport
        self._clock = clock

    def prepare(
        self, session: Session, messages: Sequence[ClaimedMessage]
    ) -> dict[uuid.UUID, Send | Outcome]:
        ids = {m.endpoint_id for m in messages if m.endpoint_id is not None}
        endpoints = {
            e.id: (e.url, e.secret_ciphertext, e.disabled_at)
            for e in session.execute(
                sa.select(
                    WebhookEndpoint.id,
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret_ciphertext,
                    WebhookEndpoint.disabled_at,
                ).where(WebhookEndpoint.id.in_(ids))
            )
        }
        jobs: dict[uuid.UUID, Send | Outcome] = {}
        try:
            refs = customer_refs(session, self._vault, messages)
        except KeyStoreUnavailable as exc:  # nothing is lost: every message waits for it
            return {m.id: Outcome(Verdict.RETRY, error=exc.detail) for m in messages}
        for message in messages:
            if message.identity_id is not None:
                message = with_customer_ref(message, refs.get(message.identity_id))
            endpoint_id = message.endpoint_id
            found = endpoints.get(endpoint_id) if endpoint_id else None
            if endpoint_id is None or found is None or found[2] is not None:
                jobs[message.id] = Outcome(Verdict.GIVE_UP, error="endpoint disabled or deleted")
                continue
            url, ciphertext, _ = found
            try:
                secret = endpoint_secret(self._cipher, endpoint_id, ciphertext)
            except UndecryptableData as exc:
                # A data key missing from this process is a deployment fault: retry later.
                jobs[message.id] = Outcome(Verdict.RETRY, error=f"secret not readable: {exc}")
                continue
            jobs[message.id] = functools.partial(self._send, message, url, secret)
        return jobs

    def gone(self, session: Session, message: ClaimedMessage, now: dt.datetime) -> None:
        if message.endpoint_id is None:
            return
        endpoint = session.get(WebhookEndpoint, message.endpoint_id)
        if endpoint is not None:
            disable_endpoint(session, endpoint, reason="the receiver answered 410 Gone", now=now)

    def _send(self, message: ClaimedMessage, url: str, secret: str) -> Outcome:
        msg_id = webhook_id(message.id)
        headers = {
            **signed_headers(secret, msg_id, int(self._clock().timestamp()), message.payload),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        try:
            answer = self._transport(url, message.payload.encode(), headers)
        except TransportError as exc:
            return Outcome(Verdict.RETRY, error=str(exc) or type(exc).__name__)
        return read_answer(answer, self._clock())


def customer_refs(
    session: Session, vault: Vault, messages: Sequence[ClaimedMessage]
) -> dict[uuid.UUID, str]:
    """The customer references the messages' payloads name by identity: opened now with each
    person's key, so a person erased before delivery is sent as ``null``."""
    ids = {m.identity_id for m in messages if m.identity_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            Identity.id,
            Identity.property_id,
            Identity.customer_ref,
            Identity.customer_ref_ciphertext,
        ).where(Identity.id.in_(ids))
    ).all()
    keys = vault.people.keys_of(row.id for row in rows if row.customer_ref_ciphertext is not None)
    found: dict[uuid.UUID, str] = {}
    for row in rows:
        ref = row.customer_ref
        if ref is None and row.customer_ref_ciphertext is not None:
            ref = vault.open(
                row.id, row.property_id, CUSTOMER, row.customer_ref_ciphertext, keys=keys
            )
        if ref is not None:
            found[row.id] = ref
    return found


def with_customer_ref(message: ClaimedMessage, customer_ref: str | None) -> ClaimedMessage:
    """The message with ``data.customer_ref`` set: the same bytes on every attempt while the
    person is known (the signature covers them)."""
    body = json.loads(message.payload)
    body["data"]["customer_ref"] = customer_ref
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
    return dataclasses.replace(message, payload=payload)


def read_answer(answer: HttpAnswer, now: dt.datetime) -> Outcome:
    """2xx delivered; 410 gone (disable); 3xx a failure (redirects are never followed, a
    redirect could point anywhere); anything else retried, after Retry-After when throttled."""
    status = answer.status
    if 200 <= status < 300:
        return Outcome(Verdict.DELIVERED, status=status)
    if status == 410:
        return Outcome(Verdict.GONE, status=status, error="410 Gone: endpoint disabled")
    if 300 <= status < 400:
        return Outcome(Verdict.RETRY, status=status, error=f"{status} redirect (not followed)")
    retry_after = parse_retry_after(answer.retry_after, now) if status in _THROTTLED else None
    return Outcome(Verdict.RETRY, status=status, error=f"HTTP {status}", retry_after=retry_after)


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """``Retry-After`` as seconds or an HTTP date (RFC 9110 §10.2.3); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(moment - now, dt.timedelta(0))


def event_types_of(names: Iterable[str]) -> list[str]:
    """The known event types among ``names``, in canonical order."""
    wanted = set(names)
    return [name for name in EVENT_TYPES if name in wanted]
