"""``consent-service retention show|table|run``: the schedule in force and the job on demand."""

from __future__ import annotations

import datetime as dt

import click

from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.models.base import utcnow
from consent_service.retention.job import DEFAULT_BATCH
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from consent_service.retention.table import schedule_table


@click.group("retention")
def retention_cli() -> None:
    """How long each kind of personal data is kept (policies/retention.toml, CONSENT_RETENTION)."""


@retention_cli.command("show")
def retention_show() -> None:
    """Print the schedule in force (with CONSENT_RETENTION applied) as a Markdown table."""
    click.echo(schedule_table(schedule_for(dict(settings().retention))), nl=False)


@retention_cli.command("table")
def retention_table() -> None:
    """Print the data file's schedule (no overrides): the README's table."""
    click.echo(schedule_table(schedule_for({})), nl=False)


@retention_cli.command("run")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="Judge periods as at this UTC time (default: the current time).",
)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=DEFAULT_BATCH)
def retention_run(now: dt.datetime | None, batch_size: int) -> None:
    """Delete what is past its period now, in short batches; print the counts per kind."""
    at = now.replace(tzinfo=dt.UTC) if now else utcnow()
    report = run_retention(
        current_session(),
        schedule_for(dict(settings().retention)),
        now=at,
        person_keys=vault().people,
        batch_size=batch_size,
    )
    for kind, count in sorted(report.counts.items()):
        click.echo(f"{kind}: {count}")
    click.echo(
        f"deleted {report.deleted} in {report.transactions} transactions "
        f"(longest {report.longest_transaction * 1000:.0f} ms)"
    )
