"""``consent-service worker``: drains the outbox (signed webhooks, notice emails).

It runs until SIGTERM (or, with ``--once``, until nothing is due) and commits after every
step itself (``messaging.worker``).
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy.orm import Session

from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import receipt_issuer
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.messaging.worker import Chore
from consent_service.messaging.worker import build_worker
from consent_service.messaging.worker import email_setup
from consent_service.messaging.worker import stopped_by_signals
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from consent_service.scanning.run import ScanEnvironment
from consent_service.scanning.schedule import TICK
from consent_service.scanning.schedule import ScanSchedule

READY = "worker running: SIGTERM finishes the message in flight, then stops"


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0.1),
    help="How long a claim lasts unless renewed (a heartbeat renews it every quarter of "
    "that while the worker lives); a killed worker's messages are taken over after it "
    "(default: 15).",
)
@click.option(
    "--retention-minutes",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Run the retention job this often (0: never; not with --once). Safe with several "
    "workers: each batch claims its own rows.",
)
def worker_cli(
    once: bool,
    batch_size: int,
    poll_interval: float,
    lease_seconds: float | None,
    retention_minutes: int,
) -> None:
    """Send the outbox's messages (signed webhooks, notice emails), retrying with backoff;
    run the retention job and the scheduled compliance scans (CONSENT_SCAN_SCHEDULE)."""
    schedule = schedule_for(dict(settings().retention))
    person_keys = vault().people
    chores = (
        (
            Chore(
                "retention",
                dt.timedelta(minutes=retention_minutes),
                lambda session, now: run_retention(
                    session, schedule, now=now, person_keys=person_keys
                ),
            ),
        )
        if retention_minutes
        else ()
    )
    scans = _scan_schedule() if not once else None
    if scans is not None:
        chores = (*chores, Chore("scans", TICK, scans.tick))
    worker = build_worker(
        current_session(),
        vault=vault(),
        allow_private_networks=settings().webhook_allow_private_networks,
        batch_size=batch_size,
        poll_interval=poll_interval,
        lease=dt.timedelta(seconds=lease_seconds) if lease_seconds else None,
        email=email_setup(settings(), vault()),
        chores=chores,
    )
    with stopped_by_signals(worker):
        # From here SIGTERM is a graceful stop; supervisors (and tests) may wait for this line.
        click.echo(READY, err=True)
        total = worker.run(once=once)
    if scans is not None:
        scans.stop()  # a scan in flight stops at its next page; its report is kept
    click.echo(
        f"worker stopped: {total.delivered} delivered, {total.retrying} to retry, "
        f"{total.dead} dead, {total.released} handed back",
        err=True,
    )


def _scan_schedule() -> ScanSchedule | None:
    """The scheduled compliance scans (CONSENT_SCAN_SCHEDULE), each run in a thread of its own
    with its own session; None when nothing is scheduled."""
    config = settings()
    if not config.scan_schedule:
        return None
    engine = db.engine
    return ScanSchedule(
        config.scan_schedule,
        new_session=lambda: Session(bind=engine),
        environment=ScanEnvironment.from_settings(config),
        issuer=receipt_issuer(),
    )
