"""Append-only consent receipts and the current-state projection derived from them."""

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


class SigningKeyRecord(Base):
    """Every public key that ever signed a receipt, so rotated-out keys stay verifiable."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    public_x: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentReceipt(Base):
    """One act of consent, exactly as signed.

    The row mirrors the signed payload for querying; ``jws`` is the proof. ``seq`` numbers a
    subject's receipts 1, 2, 3 ... and the unique constraint on it keeps each chain linear
    even under concurrent writers. UPDATE and DELETE are refused by database triggers.
    """

    __tablename__ = "consent_receipts"
    __table_args__ = (
        sa.UniqueConstraint("subject_id", "seq"),
        sa.Index("ix_consent_receipts_property_issued", "property_id", "issued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="RESTRICT"))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column()
    policy_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("policy_versions.id", ondelete="RESTRICT")
    )
    policy_sha256: Mapped[str] = mapped_column(sa.String(64))
    jurisdiction: Mapped[str] = mapped_column(sa.String(16))
    region: Mapped[str | None] = mapped_column(sa.String(16))
    method: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[str] = mapped_column(sa.String(32))
    gpc: Mapped[bool] = mapped_column()
    # {purpose_key: "granted" | "denied"}: the full snapshot for every offered purpose.
    decisions: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    network: Mapped[str | None] = mapped_column(sa.String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    kid: Mapped[str] = mapped_column(sa.ForeignKey("signing_keys.kid", ondelete="RESTRICT"))
    jws: Mapped[str] = mapped_column(sa.Text)
    jws_sha256: Mapped[str] = mapped_column(sa.String(64))


class ConsentState(Base):
    """The current decision per (subject, purpose): what every look-up reads.

    Written in the same transaction as the receipt it comes from, and rebuildable from the
    receipts alone (``consent-service state rebuild``).
    """

    __tablename__ = "consent_states"
    __table_args__ = (sa.Index("ix_consent_states_property_purpose", "property_id", "purpose_id"),)

    subject_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    purpose_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purposes.id", ondelete="CASCADE"), primary_key=True
    )
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    granted: Mapped[bool] = mapped_column()
    receipt_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("consent_receipts.id", ondelete="RESTRICT")
    )
    policy_version: Mapped[int] = mapped_column()
    jurisdiction: Mapped[str] = mapped_column(sa.String(16))
    method: Mapped[str] = mapped_column(sa.String(32))
    gpc: Mapped[bool] = mapped_column()
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
