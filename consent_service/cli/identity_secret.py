"""``consent-service identity-secret``: the secrets shop backends sign identity tokens with.

A secret is printed once, on creation, to standard output only. Creating and revoking one is
audited with the actor ``cli:<os user>``, as every credential's life is.
"""

from __future__ import annotations

import click

from consent_service.cli.running import cli_actor
from consent_service.cli.running import run_committed
from consent_service.extensions import vault
from consent_service.integrations.identity import create_identity_secret
from consent_service.integrations.identity import record_identity_secret_created
from consent_service.integrations.identity import record_identity_secret_revoked
from consent_service.integrations.identity import revoke_identity_secret


@click.group("identity-secret")
def identity_secret_cli() -> None:
    """Secrets shop backends sign identity tokens with."""


@identity_secret_cli.command("create")
@click.argument("property_key")
def identity_secret_create(property_key: str) -> None:
    """Create a secret and print it once; older secrets stay valid until revoked."""
    with run_committed() as session:
        secret_id, plaintext = create_identity_secret(session, vault(), property_key)
        record_identity_secret_created(session, cli_actor(), secret_id, property_key)
    click.echo(plaintext)
    click.echo(f"created identity secret {secret_id} for {property_key!r}", err=True)


@identity_secret_cli.command("revoke")
@click.argument("secret_id")
def identity_secret_revoke(secret_id: str) -> None:
    with run_committed() as session:
        if revoke_identity_secret(session, secret_id):
            record_identity_secret_revoked(session, cli_actor(), secret_id)
    click.echo(f"revoked identity secret {secret_id}")
