"""``consent-service receipts verify``: every receipt's signature and chain link."""

from __future__ import annotations

import sys
import uuid

import click

from consent_service.consent.verification import verify_receipts
from consent_service.extensions import current_session


@click.group("receipts")
def receipts_cli() -> None:
    """Consent receipts."""


@receipts_cli.command("verify")
@click.option("--subject", type=click.UUID, help="Only this subject's chain.")
def receipts_verify(subject: uuid.UUID | None) -> None:
    """Check every receipt's signature and chain link; exit 1 on any break."""
    report = verify_receipts(current_session(), subject_id=subject)
    for item in report.breaks:
        click.echo(
            f"BREAK receipt {item.receipt_id} (subject {item.subject_id}, "
            f"seq {item.seq}): {item.problem}"
        )
    click.echo(
        f"checked {report.receipts} receipts of {report.subjects} subjects: "
        f"{'all intact' if report.ok else f'{len(report.breaks)} problem(s)'}"
    )
    if not report.ok:
        sys.exit(1)
