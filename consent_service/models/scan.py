"""Stored compliance-scan reports (``consent_service.scanning``): one row per scan run."""

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


class ScanStatus(enum.StrEnum):
    # Claimed by a worker (scheduled scans), not finished yet; a report is not signed yet.
    RUNNING = "running"
    # Every (page, region, situation) asked for was scanned.
    COMPLETED = "completed"
    # Some were scanned, some could not be (``unscanned`` says which and why).
    PARTIAL = "partial"
    # Nothing could be scanned (no browser, every page unreachable, the time limit).
    FAILED = "failed"


class ScanTrigger(enum.StrEnum):
    CLI = "cli"
    SCHEDULE = "schedule"


class ScanReport(Base):
    """One scan of a property's pages: what it covered, its findings' counts and the signed
    report.

    ``report_json`` holds the exact bytes (canonical JSON) whose SHA-256 is ``report_sha256``;
    ``jws`` is a compact JWS (the receipts' Ed25519 key, ``typ`` ``scan-report+jws``) whose
    payload names that hash, so the report verifies against the published JWKS. A row is
    written ``running`` when a worker claims a scheduled scan and finished once, by
    ``scanning.storage.store_report``; the columns beside the report (counts, unscanned,
    status) are copies for listing without parsing it.
    """

    __tablename__ = "scan_reports"
    __table_args__ = (sa.Index("ix_scan_reports_property_started", "property_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="RESTRICT"))
    # The property's configuration and policy versions the pages were judged against.
    config_version: Mapped[int] = mapped_column()
    # {document key: published version number in effect}
    policy_versions: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    trigger: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # {finding kind: number of findings}, every kind present (0 included).
    counts: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    violations: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    # (page, region, situation) cells observed; and [{"url", "region", "situation", "reason"}]
    # for what could not be scanned (region/situation null: the whole page or the whole scan).
    observed: Mapped[int] = mapped_column(default=0)
    unscanned: Mapped[list[dict[str, str | None]]] = mapped_column(sa.JSON, default=list)
    report_json: Mapped[str | None] = mapped_column(sa.Text)
    report_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    kid: Mapped[str | None] = mapped_column(sa.ForeignKey("signing_keys.kid", ondelete="RESTRICT"))
    jws: Mapped[str | None] = mapped_column(sa.Text)
