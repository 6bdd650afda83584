"""A shop website (tenant) and the purposes and vendors it offers."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consent_service.models.base import Base
from consent_service.models.base import UTCDateTime
from consent_service.models.base import utcnow

vendor_purposes = sa.Table(
    "vendor_purposes",
    Base.metadata,
    sa.Column("vendor_id", sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("purpose_id", sa.ForeignKey("purposes.id", ondelete="CASCADE"), primary_key=True),
)


class Property(Base):
    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    allowed_origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    default_locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    locales: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    cookie_domain: Mapped[str | None] = mapped_column(sa.String(253))
    controller: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    # The document whose version a consent refers to and whose material changes re-prompt.
    consent_document_key: Mapped[str] = mapped_column(sa.String(64), default="privacy-policy")
    # {locale: {"title": ..., "description": ..., "accept_all": ..., ...}}: the banner's own words.
    banner_texts: Mapped[dict[str, dict[str, str]]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    # {regime: {locale: {"title": ..., "description": ..., "accept_all": ..., ...}}}: the words
    # that depend on how the law presents the choice (opt-in, opt-out, notice); they take
    # precedence over ``banner_texts`` for a visitor under that regime.
    regime_texts: Mapped[dict[str, dict[str, dict[str, str]]]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    # Bumped by every change that alters the banner (publication, texts, purposes, vendors):
    # banner caches in every process key on it.
    config_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # {jurisdiction code: {"regime", "honours_gpc", "first_layer", "consent_lifetime_days",
    #  "reask_floor_months"}}: the property's stricter-than-the-law settings.
    jurisdiction_overrides: Mapped[dict[str, dict[str, object]]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    # {kind: ISO 8601 duration}: the property's own retention periods for the kinds that allow
    # one (policies/retention.toml ``per_property``), checked against their floors.
    retention_overrides: Mapped[dict[str, str]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    # The ad and shop platforms the widget tells the visitor's choice (keys of
    # ``properties.platforms.PLATFORMS``, e.g. ["microsoft_uet", "shopify"]); none by default.
    platforms: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    purposes: Mapped[list[Purpose]] = relationship(
        back_populates="property", order_by="Purpose.position"
    )
    vendors: Mapped[list[Vendor]] = relationship(back_populates="property", order_by="Vendor.key")


class Purpose(Base):
    __tablename__ = "purposes"
    __table_args__ = (sa.UniqueConstraint("property_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)
    essential: Mapped[bool] = mapped_column(default=False)
    legal_basis: Mapped[str] = mapped_column(sa.String(32), default="consent")
    # Google Consent Mode v2 types this purpose grants (e.g. ["analytics_storage"]).
    consent_mode: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # US-state opt-out categories: "sale", "sharing", "targeted_advertising".
    opt_out_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # {platform: [signal, ...]}: the other platforms' signals this purpose grants, e.g.
    # {"microsoft_uet": ["ad_storage"]}; a signal needs every purpose listing it granted.
    platform_signals: Mapped[dict[str, list[str]]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    # {locale: {"name": ..., "description": ...}}
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(sa.JSON, default=dict)

    property: Mapped[Property] = relationship(back_populates="purposes")


class Vendor(Base):
    __tablename__ = "vendors"
    __table_args__ = (sa.UniqueConstraint("property_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str | None] = mapped_column(sa.String(8))
    privacy_policy_url: Mapped[str | None] = mapped_column(sa.String(500))
    # [{"name", "domain", "duration", "description"}]
    cookies: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)

    property: Mapped[Property] = relationship(back_populates="vendors")
    purposes: Mapped[list[Purpose]] = relationship(secondary=vendor_purposes)
