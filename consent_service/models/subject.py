"""The person consent is about, pseudonymous until an integration links them."""

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


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (sa.UniqueConstraint("property_id", "visitor_id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    # Random id the widget creates and keeps in a first-party cookie.
    visitor_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    # The known customer this browser belongs to, once a trusted credential said so.
    identity_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("identities.id"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person asked to be erased: the widget then forgets this visitor id.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the retention job deleted this subject's receipt chain (past its period). Only then
    # does the receipts' trigger let them be deleted; the visitor id is replaced by a random
    # one, so a returning browser starts a new subject instead of reusing this one.
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
