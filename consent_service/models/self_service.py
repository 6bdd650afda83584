"""What the self-service preferences page needs beyond consent itself: single-use sign-in
links and erasure requests."""

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


class MagicLink(Base):
    """One emailed sign-in link. The token only names this row; ``used_at`` makes it single
    use (claimed by a conditional UPDATE) and ``expires_at`` bounds it whatever the token says.
    """

    __tablename__ = "magic_links"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    identity_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ErasureRequest(Base):
    """A person's request to be erased and its completion: the record the law asks for.

    Exactly one of ``identity_id`` (a customer) and ``subject_id`` (an anonymous visitor) is
    set; each may be asked for once (the unique constraints), so a second request finds the
    first instead of erasing twice.
    """

    __tablename__ = "erasure_requests"
    __table_args__ = (
        sa.CheckConstraint("(identity_id IS NULL) <> (subject_id IS NULL)", name="one_subject"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    identity_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="RESTRICT"), unique=True
    )
    subject_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="RESTRICT"), unique=True
    )
    # The jurisdiction whose deadline applies (the person's latest receipt's) and that law.
    jurisdiction: Mapped[str] = mapped_column(sa.String(16))
    law: Mapped[str] = mapped_column(sa.String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Where the request came from ("preferences-page", "admin", "api").
    source: Mapped[str] = mapped_column(sa.String(32))
    # The signed statement of what was erased and when (compact JWS, the receipts' key), and
    # its counts unsigned for listing; pseudonymous ids only.
    statement_jws: Mapped[str | None] = mapped_column(sa.Text)
    summary: Mapped[dict[str, object] | None] = mapped_column(sa.JSON)
