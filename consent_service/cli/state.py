"""``consent-service state rebuild``: the consent-state projection from the receipts alone."""

from __future__ import annotations

import click

from consent_service.cli.running import run_committed
from consent_service.consent.state import rebuild_state


@click.group("state")
def state_cli() -> None:
    """The consent-state projection."""


@state_cli.command("rebuild")
def state_rebuild() -> None:
    """Recompute the current consent state from the receipts alone."""
    with run_committed() as session:
        rows = rebuild_state(session)
    click.echo(f"rebuilt {rows} consent-state rows from receipts")
