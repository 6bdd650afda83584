"""``consent-service keystore status|convert|rewrap``: the store of per-person keys
(crypto-shredding, ``infra/keystore.py``)."""

from __future__ import annotations

import click

from consent_service.cli.running import run_committed
from consent_service.extensions import key_store
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.integrations.identity import convert_identities
from consent_service.models.base import utcnow


@click.group("keystore")
def keystore_cli() -> None:
    """Per-person keys, kept outside the main database."""


@keystore_cli.command("status")
def keystore_status() -> None:
    """How many person keys each master key (CONSENT_DATA_KEYS) wraps."""
    status = key_store().status(key.kid for key in settings().data_keys)
    click.echo(f"{status.total} person keys; current master key {status.current_kid}")
    for kid, count in sorted(status.by_kid.items()):
        unknown = " (NOT CONFIGURED)" if kid in status.unknown_kids else ""
        click.echo(f"  {kid}: {count}{unknown}")


@keystore_cli.command("convert")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True)
def keystore_convert(batch_size: int) -> None:
    """Seal identities an earlier release wrote with each person's key (idempotent)."""
    total = 0
    while True:
        with run_committed() as session:
            changed = convert_identities(session, vault(), now=utcnow(), batch_size=batch_size)
        total += changed
        if changed == 0:
            break
    click.echo(f"converted {total} identities")


@keystore_cli.command("rewrap")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True)
def keystore_rewrap(batch_size: int) -> None:
    """Re-wrap every person key under the current master key (idempotent); older master
    keys can then leave CONSENT_DATA_KEYS."""
    done = key_store().rewrap(batch_size=batch_size)
    click.echo(f"re-wrapped {done} person keys under {key_store().current_kid}")
