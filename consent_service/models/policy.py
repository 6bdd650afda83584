"""Policy documents and their versions (draft, then published and immutable)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consent_service.models.base import Base
from consent_service.models.base import UTCDateTime
from consent_service.models.base import utcnow


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class PolicyDocument(Base):
    __tablename__ = "policy_documents"
    __table_args__ = (sa.UniqueConstraint("property_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))

    versions: Mapped[list[PolicyVersion]] = relationship(
        back_populates="document", order_by="PolicyVersion.id"
    )


class PolicyVersion(Base):
    """One revision of a document.

    ``number`` is given at publication (published numbers are 1, 2, 3 ... without gaps) and
    ``sha256`` is the hash of the canonical body bytes served for that number. Once published,
    a database trigger refuses any change to the row, whatever code tries.
    """

    __tablename__ = "policy_versions"
    __table_args__ = (
        sa.UniqueConstraint("document_id", "number"),
        sa.CheckConstraint(
            "(status = 'draft' AND number IS NULL AND published_at IS NULL) OR "
            "(status = 'published' AND number IS NOT NULL AND published_at IS NOT NULL)",
            name="published_has_number",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("policy_documents.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int | None] = mapped_column()
    status: Mapped[VersionStatus] = mapped_column(
        sa.Enum(
            VersionStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=VersionStatus.DRAFT,
    )
    body: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    material: Mapped[bool] = mapped_column(default=False)
    # The purposes a material change affects (changed or newly added): only choices for these
    # go stale. Empty on a material version published before purposes were named: all of them.
    affected_purposes: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    # {locale: summary}
    change_summary: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    effective_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    document: Mapped[PolicyDocument] = relationship(back_populates="versions")
