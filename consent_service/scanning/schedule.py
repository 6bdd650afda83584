"""Scheduled scans: the worker's ``scans`` chore (``CONSENT_SCAN_SCHEDULE``).

Each tick (between outbox batches) claims the first scheduled scan that is due
(``storage.claim_scheduled_scan``: one scan at a time across every worker, and a property not
again before its interval), and runs it in a thread of its own with its own session, so the
outbox keeps flowing while the browser works. The scan's time limit bounds it (what is left
then is reported as not scanned); a worker that stops asks the scan to stop at the next page
and waits for it. The finished report is stored and signed on the claimed row, which queues
``scan.completed``; a scan that fails outright marks its row ``failed`` (and a dead worker's
claim stops counting after ``stale_after``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.consent.receipts import Issuer
from consent_service.infra.database import commit_or_roll_back
from consent_service.models import Property
from consent_service.models.base import utcnow
from consent_service.scanning.run import ScanEnvironment
from consent_service.scanning.run import ScanRequest
from consent_service.scanning.run import run_scan
from consent_service.scanning.storage import claim_scheduled_scan
from consent_service.scanning.storage import mark_failed
from consent_service.scanning.storage import store_report
from consent_service.settings import ScheduledScan

log = logging.getLogger(__name__)
# How often the chore looks for a due scan.
TICK = dt.timedelta(minutes=1)


class ScanSchedule:
    """The chore (:meth:`tick`) and the thread that runs one scan at a time."""

    def __init__(
        self,
        entries: Sequence[ScheduledScan],
        *,
        new_session: Callable[[], Session],
        environment: ScanEnvironment,
        issuer: Issuer,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._entries = tuple(entries)
        self._new_session = new_session
        self._environment = environment
        self._issuer = issuer
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def tick(self, session: Session, now: dt.datetime) -> uuid.UUID | None:
        """Start the first due scan, unless one runs; its claim's id, or None."""
        if self.running or self._stopping.is_set():
            return None
        for entry in self._entries:
            with commit_or_roll_back(session):
                claimed = self._claim(session, entry, now)
            if claimed is not None:
                self._thread = threading.Thread(
                    target=self._run, args=(entry, claimed), name=f"scan-{entry.property}"
                )
                self._thread.start()
                return claimed
        return None

    def _claim(self, session: Session, entry: ScheduledScan, now: dt.datetime) -> uuid.UUID | None:
        prop = session.execute(
            sa.select(Property.id, Property.config_version).where(Property.key == entry.property)
        ).first()
        if prop is None:
            log.warning("scheduled scan of %r: no such property; skipped", entry.property)
            return None
        return claim_scheduled_scan(
            session,
            prop.id,
            config_version=prop.config_version,
            every=entry.every,
            stale_after=stale_after(entry),
            now=now,
        )

    def _run(self, entry: ScheduledScan, scan_id: uuid.UUID) -> None:
        request = ScanRequest(
            property_key=entry.property,
            urls=entry.urls,
            regions=entry.regions or None,
            pages=entry.pages,
            trigger="schedule",
            time_limit=entry.time_limit,
        )
        session = self._new_session()
        try:
            report = run_scan(
                session,
                request,
                self._environment,
                clock=self._clock,
                should_stop=self._stopping.is_set,
            )
            with commit_or_roll_back(session):
                store_report(
                    session, report, issuer=self._issuer, now=self._clock(), scan_id=scan_id
                )
            log.info(
                "scheduled scan %s of %s: %s, %d finding(s)",
                scan_id,
                entry.property,
                report.status,
                len(report.findings),
            )
        except Exception:
            log.exception("scheduled scan %s of %s failed", scan_id, entry.property)
            try:
                with commit_or_roll_back(session):
                    mark_failed(session, scan_id, now=self._clock())
            except Exception:
                log.exception("scan %s stays claimed until it is stale", scan_id)
        finally:
            session.close()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the running scan (if any) to finish and store its report."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Ask a running scan to stop at its next page, and wait for it (and its report)."""
        self._stopping.set()
        self.wait(timeout)


def stale_after(entry: ScheduledScan) -> dt.timedelta:
    """When a claim no longer blocks others: its time limit twice over, plus ten minutes."""
    return entry.time_limit * 2 + dt.timedelta(minutes=10)
