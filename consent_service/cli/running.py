"""What every command that calls the domain shares: its work commits when it succeeds, and a
domain error ends it with the error's own words (exit status 1), nothing written."""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator

import click
from sqlalchemy.orm import Session

from consent_service.errors import ConsentServiceError
from consent_service.extensions import committed
from consent_service.infra.audit import Actor


@contextlib.contextmanager
def run_committed() -> Iterator[Session]:
    """The command's session for a block that calls the domain: committed when the block
    ends; rolled back if it fails, a domain error becoming the command's error message."""
    try:
        with committed() as session:
            yield session
    except ConsentServiceError as exc:
        raise click.ClickException(exc.detail) from None


def cli_actor() -> Actor:
    """Who the audit log names for a command: ``cli:<os user>``, as no admin account signs in."""
    return Actor(name=f"cli:{getpass.getuser()}")
