"""``consent-service keys``: integration API keys.

A key is printed once, on creation, to standard output only; lists never show it.
"""

from __future__ import annotations

import click

from consent_service.cli.running import cli_actor
from consent_service.cli.running import run_committed
from consent_service.extensions import caller_cache
from consent_service.extensions import current_session
from consent_service.integrations.api_keys import Scope
from consent_service.integrations.api_keys import create_api_key
from consent_service.integrations.api_keys import list_api_keys
from consent_service.integrations.api_keys import record_key_created
from consent_service.integrations.api_keys import record_key_revoked
from consent_service.integrations.api_keys import revoke_api_key
from consent_service.models.base import utcnow

SCOPES = [scope.value for scope in Scope]


@click.group("keys")
def keys_cli() -> None:
    """Integration API keys (scoped, bound to one property)."""


@keys_cli.command("create")
@click.argument("property_key")
@click.option("--name", required=True, help="Who uses it, e.g. 'order-service'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="Repeat for several scopes.",
)
@click.option("--rate-limit", help="e.g. '600/minute'; default: CONSENT_API_RATE_LIMIT.")
def keys_create(
    property_key: str, name: str, scopes: tuple[str, ...], rate_limit: str | None
) -> None:
    """Create a key and print it: this is the only time it is shown."""
    with run_committed() as session:
        issued = create_api_key(
            session, property_key, name=name, scopes=scopes, rate_limit=rate_limit
        )
        record_key_created(session, cli_actor(), issued, property_key)
    click.echo(issued.plaintext)
    click.echo(
        f"created key {issued.key.public_id} for {property_key!r} with scopes "
        f"{', '.join(issued.key.scopes)}; store it now, it cannot be shown again",
        err=True,
    )


@keys_cli.command("list")
@click.option("--property", "property_key", help="Only this property's keys.")
def keys_list(property_key: str | None) -> None:
    """Every key with its scopes and state (never its secret)."""
    for key, prop in list_api_keys(current_session(), property_key):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(
            f"{key.public_id}  {prop}  {key.name!r}  {' '.join(key.scopes)}  "
            f"limit={key.rate_limit or 'default'}  last used {used}  {state}"
        )


@keys_cli.command("revoke")
@click.argument("public_id")
def keys_revoke(public_id: str) -> None:
    """Revoke a key: refused by this process at once, by others within the key cache time."""
    with run_committed() as session:
        now = utcnow()
        key = revoke_api_key(session, public_id, now=now)
        if key.revoked_at == now:  # revoked just now, not before
            record_key_revoked(session, cli_actor(), key)
    caller_cache().forget()
    click.echo(f"revoked {public_id}")
