"""``consent-service signing-key generate``: a new receipt signing key, printed once."""

from __future__ import annotations

import click

from consent_service.infra.signing import generate_signing_key


@click.group("signing-key")
def signing_key_cli() -> None:
    """Receipt signing keys."""


@signing_key_cli.command("generate")
@click.option("--kid", help="Key id; default: today's date and a random suffix.")
def signing_key_generate(kid: str | None) -> None:
    """Print a new key for CONSENT_SIGNING_KEYS (put it first to rotate; keep the old after)."""
    click.echo(generate_signing_key(kid).spec())
