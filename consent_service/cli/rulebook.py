"""``consent-service rulebook table``: the jurisdiction table the README holds, from the book."""

from __future__ import annotations

import click

from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.table import rulebook_table


@click.group("rulebook")
def rulebook_cli() -> None:
    """The jurisdiction rulebook (policies/rulebook/*.toml)."""


@rulebook_cli.command("table")
def rulebook_table_command() -> None:
    """Print every rule as a Markdown table (the README's, between its marker comments)."""
    click.echo(rulebook_table(rulebook()), nl=False)
