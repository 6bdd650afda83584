"""Webhook endpoints and the outbox: messages written with their cause, sent by workers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent_service.models.base import Base
from consent_service.models.base import UTCDateTime
from consent_service.models.base import new_id
from consent_service.models.base import utcnow


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(
        sa.ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # Event types this endpoint receives, e.g. ["consent.changed", "policy.published"].
    event_types: Mapped[list[str]] = mapped_column(sa.JSON)
    # The Standard Webhooks signing secret (``whsec_...``), encrypted like emails.
    secret_ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Gave up after the last retry (or the endpoint was disabled): kept, visible, re-drivable.
    DEAD = "dead"


class OutboxMessage(Base):
    """One message to deliver. Its ``id`` is the stable message id receivers de-duplicate on.

    A worker claims a row by setting ``locked_until`` (a lease); a worker that dies mid-batch
    simply lets the lease lapse and another picks the row up: at least once, never lost.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        # The retention job finds delivered rows past their period by it.
        sa.Index("ix_outbox_delivered", "status", "delivered_at"),
        # Exactly one message per customer per campaign, whatever happens to the workers.
        sa.UniqueConstraint("campaign_id", "identity_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(16))
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # Email rows: the campaign and the customer (the address is read, decrypted, at send time).
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("email_campaigns.id", ondelete="CASCADE")
    )
    identity_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(sa.String(64))
    # The exact body to send (minified JSON); signatures cover these bytes.
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Erasure: a settled payload that named an erased person was rewritten without them then.
    redacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Erasure of a person a pending payload names: the values to replace once it is settled
    # (delivered or dead), since the receiver still needs them (``subject.erased``).
    redact_on_settle: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
