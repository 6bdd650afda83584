"""Known customers behind pseudonymous visitors, and the secrets that prove a link."""

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


class Identity(Base):
    """A shop customer. Each of their browsers is a :class:`Subject` pointing here.

    The email and the customer reference are stored only sealed with the person's own key
    (kept outside this database, ``infra/keystore.py``: erasure deletes it, and every copy of
    these ciphertexts becomes unreadable), and found by keyed HMAC blind indexes.
    ``customer_ref`` is the plaintext column of releases before person keys: read only until
    ``consent-service keystore convert`` has moved every row, never written.
    """

    __tablename__ = "identities"
    __table_args__ = (
        sa.UniqueConstraint("property_id", "customer_ref"),
        sa.UniqueConstraint("property_id", "email_index"),
        sa.UniqueConstraint("property_id", "customer_ref_index"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    customer_ref: Mapped[str | None] = mapped_column(sa.String(200))
    customer_ref_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    customer_ref_index: Mapped[str | None] = mapped_column(sa.String(64))
    email_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    email_index: Mapped[str | None] = mapped_column(sa.String(64))
    # The customer's language for emails (BCP 47); None: the property's default.
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the customer was erased: the row stays, without its PII, so that the receipts
    # of the customer's browsers still belong together (pseudonymised proof).
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IdentitySecret(Base):
    """A property's secret for signing identity tokens; several may be live during rotation."""

    __tablename__ = "identity_secrets"

    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    property_id: Mapped[int] = mapped_column(
        sa.ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    secret_ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IdentityTokenUse(Base):
    """An identity token already redeemed: its nonce, kept until the token would have expired
    anyway, so a token links one browser once and a replay is refused (see
    ``integrations.identity.redeem_identity_token``)."""

    __tablename__ = "identity_token_uses"

    property_id: Mapped[int] = mapped_column(
        sa.ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
