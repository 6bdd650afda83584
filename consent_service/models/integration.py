"""Integration credentials and the log of every look-up they made."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent_service.models.base import Base
from consent_service.models.base import UTCDateTime
from consent_service.models.base import new_id
from consent_service.models.base import utcnow


class ApiKey(Base):
    """A shop backend's credential for one property.

    Only the SHA-256 of the secret is kept: the secret is 256 random bits, so a slow
    password hash would add latency to every call without adding resistance.
    """

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    # The visible, non-secret part of ``csk_<public_id>_<secret>``: found by it, shown in lists.
    public_id: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[list[str]] = mapped_column(sa.JSON)
    # A limit such as "600/minute" (``limits`` notation); None: the service default.
    rate_limit: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DecisionLogEntry(Base):
    """One look-up request: who asked, about whom, for what, and what they were told.

    A bulk request is one row whose ``answers`` lists every item, so logging costs one
    insert whatever the request's size. Subjects named by email appear only by their
    blind index, never by address.
    """

    __tablename__ = "decision_log"
    __table_args__ = (
        sa.Index("ix_decision_log_property_requested", "property_id", "requested_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("api_keys.id", ondelete="RESTRICT"), index=True
    )
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    purposes: Mapped[list[str]] = mapped_column(sa.JSON)
    item_count: Mapped[int] = mapped_column()
    allowed_count: Mapped[int] = mapped_column()
    # [[subject_ref, purpose, allowed, reason], ...]
    answers: Mapped[list[list[object]]] = mapped_column(sa.JSON)
    # When an erasure last replaced an erased person's labels in ``answers`` (the one update
    # the table's trigger allows: it may change nothing else).
    pseudonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
