"""The marketing/legal team's accounts and the audit log of everything they change."""

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


class AdminRole(enum.StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    PUBLISHER = "publisher"
    ADMIN = "admin"


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(16))
    # argon2id, parameters inside the hash string.
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    # The TOTP secret, encrypted like other secrets; None until enrolled.
    totp_secret_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    totp_enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last accepted TOTP time step: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who changed what, when, with the state before and after. Rows are never rewritten."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_at", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    admin_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="RESTRICT"), index=True
    )
    # Who acted as shown (an admin's email, or "cli:<os user>").
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(64))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict[str, object] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(sa.JSON)
    network: Mapped[str | None] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
