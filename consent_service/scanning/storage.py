"""Scan reports stored and signed like receipts, claimed for scheduled runs, read back.

* :func:`store_report` keeps a finished :class:`~consent_service.scanning.report.ScanReportData`:
  its canonical JSON, that JSON's SHA-256, and a compact JWS over the hash (``typ``
  :data:`REPORT_TYP`, the receipts' Ed25519 key, so ``/.well-known/jwks.json`` verifies it),
  plus the counts copied into columns; and queues the ``scan.completed`` webhook event, in the
  caller's transaction (the caller commits).
* :func:`claim_scheduled_scan` writes a ``running`` row for a scheduled scan, unless one is
  running (anywhere: scans run one at a time) or the property's last scan is recent enough;
  the worker then finishes that row with :func:`store_report` (``scan_id=``).
* :func:`latest_reports` lists a property's finished scans, newest first;
  :func:`latest_per_cell` picks, for each (region, situation), the newest scan that covered it
  (what the admin's Scans page shows); :func:`verify_report` proves a stored report is the one
  signed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.consent.receipts import Issuer
from consent_service.errors import InternalError
from consent_service.infra.database import begin_write
from consent_service.infra.signing import InvalidReceiptSignature
from consent_service.infra.signing import b64url_decode
from consent_service.infra.signing import canonical_json
from consent_service.infra.signing import verify_jws
from consent_service.infra.times import rfc3339_millis
from consent_service.messaging.webhooks import EventType
from consent_service.messaging.webhooks import emit_event
from consent_service.models import Property
from consent_service.models.base import new_id
from consent_service.models.scan import ScanReport
from consent_service.models.scan import ScanStatus
from consent_service.models.scan import ScanTrigger
from consent_service.scanning.report import Finding
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import Severity

REPORT_TYP = "scan-report+jws"
STATEMENT_SCHEMA = "consent-service/scan-report-signature/v1"


class InvalidScanReport(InternalError):
    """A stored report whose bytes, hash or signature do not agree: tampering or corruption."""


@dataclasses.dataclass(frozen=True)
class StoredScan:
    """A finished scan row with its report parsed."""

    row: ScanReport
    report: ScanReportData


def report_bytes(report: ScanReportData) -> bytes:
    """The exact bytes stored and hashed: canonical JSON (sorted keys, UTF-8)."""
    return canonical_json(report.to_json())


def signed_payload(
    scan_id: uuid.UUID, report: ScanReportData, sha256: str, *, issuer: Issuer
) -> dict[str, object]:
    """What the JWS says: the report's hash and the facts a reader checks without it."""
    return {
        "schema": STATEMENT_SCHEMA,
        "issuer": issuer.base_url,
        "scan_id": str(scan_id),
        "property": report.property_key,
        "config_version": report.config_version,
        "policy_versions": dict(report.policy_versions),
        "trigger": report.trigger,
        "status": report.status,
        "started_at": rfc3339_millis(report.started_at),
        "finished_at": rfc3339_millis(report.finished_at),
        "counts": report.counts,
        "report_sha256": sha256,
    }


def store_report(
    session: Session,
    report: ScanReportData,
    *,
    issuer: Issuer,
    now: dt.datetime,
    scan_id: uuid.UUID | None = None,
) -> ScanReport:
    """Sign and keep ``report`` (a new row, or the claimed ``scan_id`` row finished), and queue
    ``scan.completed`` for the property's subscribed endpoints; the caller commits."""
    begin_write(session)
    property_id = session.scalar(sa.select(Property.id).where(Property.key == report.property_key))
    if property_id is None:
        raise ValueError(f"no property {report.property_key!r}")
    row = session.get(ScanReport, scan_id) if scan_id else None
    if scan_id and (row is None or row.status != ScanStatus.RUNNING):
        raise ValueError(f"scan {scan_id} is not a running scan")
    if row is None:
        row = ScanReport(id=scan_id or new_id(), property_id=property_id)
        session.add(row)
    body = report_bytes(report)
    sha256 = hashlib.sha256(body).hexdigest()
    issuer.ensure_registered(session)
    row.config_version = report.config_version
    row.policy_versions = dict(report.policy_versions)
    row.trigger = report.trigger
    row.status = report.status
    row.started_at = report.started_at
    row.finished_at = report.finished_at
    row.counts = report.counts
    row.violations = report.count(Severity.VIOLATION)
    row.warnings = report.count(Severity.WARNING)
    row.observed = len(report.observations)
    row.unscanned = [dataclasses.asdict(u) for u in report.unscanned]
    row.report_json = body.decode()
    row.report_sha256 = sha256
    row.kid = issuer.key.kid
    session.flush()  # the id is the one the signature names
    row.jws = issuer.key.sign(signed_payload(row.id, report, sha256, issuer=issuer), typ=REPORT_TYP)
    emit_event(session, property_id, EventType.SCAN_COMPLETED, completed_event(row, report), now)
    return row


def completed_event(row: ScanReport, report: ScanReportData) -> dict[str, Any]:
    """``scan.completed``'s data: which scan, how it went, its counts (never the findings)."""
    return {
        "property": report.property_key,
        "scan_id": str(row.id),
        "trigger": report.trigger,
        "status": report.status,
        "started_at": rfc3339_millis(report.started_at),
        "finished_at": rfc3339_millis(report.finished_at),
        "config_version": report.config_version,
        "policy_versions": dict(report.policy_versions),
        "regions": list(report.regions),
        "situations": list(report.situations),
        "pages": len(report.pages),
        "counts": report.counts,
        "violations": row.violations,
        "warnings": row.warnings,
        "unscanned": len(report.unscanned),
        "report_sha256": row.report_sha256,
    }


def claim_scheduled_scan(
    session: Session,
    property_id: int,
    *,
    config_version: int,
    every: dt.timedelta,
    stale_after: dt.timedelta,
    now: dt.datetime,
) -> uuid.UUID | None:
    """A ``running`` row for a scheduled scan of the property, or None when it is not due:
    another scan is running (for any property; a claim older than ``stale_after`` is a dead
    worker's and no longer counts) or the property's last scan started less than ``every``
    ago. Serialised across workers: SQLite's write lock, PostgreSQL's transaction-level
    advisory lock. The caller commits at once."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CLAIM_LOCK)))
    running = session.scalar(
        sa.select(sa.func.count()).where(
            ScanReport.status == ScanStatus.RUNNING, ScanReport.started_at > now - stale_after
        )
    )
    if running:
        return None
    last = session.scalar(
        sa.select(sa.func.max(ScanReport.started_at)).where(ScanReport.property_id == property_id)
    )
    if last is not None and last > now - every:
        return None
    # A dead worker's claims on this property end here: they will never be finished.
    session.execute(
        sa.update(ScanReport)
        .where(ScanReport.property_id == property_id, ScanReport.status == ScanStatus.RUNNING)
        .values(status=ScanStatus.FAILED, finished_at=now)
    )
    row = ScanReport(
        id=new_id(),
        property_id=property_id,
        config_version=config_version,
        trigger=ScanTrigger.SCHEDULE,
        status=ScanStatus.RUNNING,
        started_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def mark_failed(session: Session, scan_id: uuid.UUID, *, now: dt.datetime) -> None:
    """End a claimed scan that could not produce a report (the caller commits)."""
    session.execute(
        sa.update(ScanReport)
        .where(ScanReport.id == scan_id, ScanReport.status == ScanStatus.RUNNING)
        .values(status=ScanStatus.FAILED, finished_at=now)
    )


# A fixed key of PostgreSQL's advisory locks for claims ("scan" in ASCII).
_CLAIM_LOCK = 0x7363616E


def latest_reports(session: Session, property_id: int, *, limit: int = 20) -> list[StoredScan]:
    """The property's finished scans (running claims left out), newest first."""
    rows = session.scalars(
        sa.select(ScanReport)
        .where(ScanReport.property_id == property_id, ScanReport.report_json.is_not(None))
        .order_by(ScanReport.started_at.desc(), ScanReport.id.desc())
        .limit(limit)
    )
    return [StoredScan(row, parse_report(row)) for row in rows]


def parse_report(row: ScanReport) -> ScanReportData:
    if row.report_json is None:
        raise ValueError(f"scan {row.id} has no report yet")
    return ScanReportData.from_json(json.loads(row.report_json))


@dataclasses.dataclass(frozen=True)
class CellResult:
    """The newest result for one (region, situation): which scan, which pages, what it found."""

    scan_id: uuid.UUID
    finished_at: dt.datetime
    pages: tuple[str, ...]
    findings: tuple[Finding, ...]


def latest_per_cell(scans: Sequence[StoredScan]) -> dict[tuple[str, str], CellResult]:
    """For each (region, situation) some scan observed, the newest such scan's result;
    ``scans`` newest first (as :func:`latest_reports` gives them)."""
    cells: dict[tuple[str, str], CellResult] = {}
    for scan in scans:
        seen: dict[tuple[str, str], list[str]] = {}
        for observation in scan.report.observations:
            seen.setdefault((observation.region, observation.situation), []).append(observation.url)
        for cell, pages in seen.items():
            if cell not in cells:
                cells[cell] = CellResult(
                    scan_id=scan.row.id,
                    finished_at=scan.report.finished_at,
                    pages=tuple(pages),
                    findings=tuple(scan.report.findings_for(*cell)),
                )
    return cells


def verify_report(row: ScanReport, public_keys: Mapping[str, str]) -> ScanReportData:
    """The report, once its stored bytes hash to the signed hash and the JWS verifies against
    ``public_keys`` (``{kid: x}``, e.g. ``consent.jwks.published_keys``); otherwise
    :class:`InvalidScanReport` saying what does not agree."""
    if row.report_json is None or row.jws is None or row.report_sha256 is None:
        raise InvalidScanReport(f"scan {row.id} is not finished: nothing is signed")
    sha256 = hashlib.sha256(row.report_json.encode()).hexdigest()
    if sha256 != row.report_sha256:
        raise InvalidScanReport(f"scan {row.id}: the stored report does not match its hash")
    try:
        header = json.loads(_b64_part(row.jws))
        payload = verify_jws(row.jws, public_keys)
    except (InvalidReceiptSignature, ValueError) as exc:
        raise InvalidScanReport(f"scan {row.id}: {exc}") from None
    if header.get("typ") != REPORT_TYP:
        raise InvalidScanReport(f"scan {row.id}: the signature is not a scan report's")
    if payload.get("report_sha256") != sha256 or payload.get("scan_id") != str(row.id):
        raise InvalidScanReport(f"scan {row.id}: the signature names another report")
    return parse_report(row)


def _b64_part(jws: str) -> bytes:
    return b64url_decode(jws.split(".", 1)[0])
