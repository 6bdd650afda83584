"""``consent-service demo load``: the demo properties from ``policies/demo/``."""

from __future__ import annotations

from pathlib import Path

import click

from consent_service.cli.running import run_committed
from consent_service.demo import load_demo_customers
from consent_service.demo import load_property_dir
from consent_service.demo import served_origins_of
from consent_service.extensions import settings
from consent_service.extensions import vault
from policies import DEMO_DIR


@click.group("demo")
def demo_cli() -> None:
    """Demo data."""


@demo_cli.command("load")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="One property directory; default: every property under policies/demo/.",
)
def demo_load(directory: Path | None) -> None:
    """Create the demo properties, purposes, vendors, policy versions and customers that are
    missing; what exists (an admin's edits) is kept, and the output says what was skipped."""
    directories = [directory] if directory else sorted(p for p in DEMO_DIR.iterdir() if p.is_dir())
    served = served_origins_of(settings().base_url)
    with run_committed() as session:
        for path in directories:
            load = load_property_dir(session, path, served_origins=served)
            load_demo_customers(session, vault(), load, path)
            click.echo(f"loaded property {load.property.key!r} from {path}")
            for created in load.created:
                click.echo(f"  created {created}")
            for skipped in load.skipped:
                click.echo(f"  skipped: {skipped}")
