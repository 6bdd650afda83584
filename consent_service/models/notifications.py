"""Email campaigns (policy-change notices) and customers' list subscriptions."""

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


class EmailCampaign(Base):
    """One notice to every affected customer; its messages are outbox rows (channel email)."""

    __tablename__ = "email_campaigns"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(
        sa.ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    # "policy-notice" for a material policy change.
    kind: Mapped[str] = mapped_column(sa.String(32))
    policy_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("policy_versions.id", ondelete="RESTRICT")
    )
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailSubscription(Base):
    """A customer's choice for one mailing list; no row means the list's default."""

    __tablename__ = "email_subscriptions"

    identity_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    list_key: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    subscribed: Mapped[bool] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the choice came from: "one-click", "preferences", "api".
    source: Mapped[str] = mapped_column(sa.String(32))
