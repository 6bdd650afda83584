"""``consent-service demo load``: the demo properties from ``policies/demo/``."""

from __future__ import annotations

from pathlib import Path

import click

from consent_service.cli.running import run_committed
from consent_service.demo import load_property_dir
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
    """Load (or update) the demo properties, purposes, vendors and policy versions."""
    directories = [directory] if directory else sorted(p for p in DEMO_DIR.iterdir() if p.is_dir())
    with run_committed() as session:
        for path in directories:
            prop = load_property_dir(session, path)
            click.echo(f"loaded property {prop.key!r} from {path}")
