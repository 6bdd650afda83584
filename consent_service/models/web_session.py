"""Server-side records of the browser sessions of the admin and of the preferences page."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent_service.models.base import Base
from consent_service.models.base import UTCDateTime


class WebSession(Base):
    """One signed-in browser. Its cookie carries only a random token; the row is found by the
    token's SHA-256 (``id``), so a copy of the table signs nobody in. Every request checks the
    row: revoked (sign-out, a password, role or account change, erasure) or expired, the
    session has ended for every copy of the cookie at once.

    ``idle_expires_at`` is the earlier of the idle and the absolute limit, so one indexed
    comparison says whether the row is spent (and prunes it).
    """

    __tablename__ = "web_sessions"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('admin', 'preferences')", name="kind"),
        sa.Index("ix_web_sessions_visitor", "property_id", "visitor_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    # admin: the account, and how far sign-in has come (password, enrol, full)
    admin_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str | None] = mapped_column(sa.String(16))
    # preferences: a customer (identity) or one browser (visitor) of a property, and the way in
    property_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("properties.id", ondelete="CASCADE")
    )
    identity_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    visitor_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    via: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    idle_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
