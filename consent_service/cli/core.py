"""``consent-service`` commands: each parses, calls one domain function, commits, reports."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO
from typing import TypeVar

import click
from flask import Flask

from consent_service.errors import ConsentServiceError
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.models import PolicyVersion

T = TypeVar("T")


def register_cli(app: Flask) -> None:
    from consent_service.cli.integrations import identity_secret_cli
    from consent_service.cli.integrations import keys_cli

    for group in (keys_cli, identity_secret_cli):
        app.cli.add_command(group)
    from consent_service.cli.webhooks import webhooks_cli
    from consent_service.cli.webhooks import worker_cli

    for command in (webhooks_cli, worker_cli):
        app.cli.add_command(command)
    from consent_service.cli.campaigns import campaigns_cli

    app.cli.add_command(campaigns_cli)
    from consent_service.cli.admin import admin_cli

    app.cli.add_command(admin_cli)
    for group in (demo_cli, receipts_cli, state_cli, policy_cli, signing_key_cli):
        app.cli.add_command(group)


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
    from consent_service.demo import load_property_dir
    from policies import DEMO_DIR

    directories = [directory] if directory else sorted(p for p in DEMO_DIR.iterdir() if p.is_dir())
    for path in directories:
        prop = load_property_dir(current_session(), path)
        click.echo(f"loaded property {prop.key!r} from {path}")
    db.session.commit()


@click.group("receipts")
def receipts_cli() -> None:
    """Consent receipts."""


@receipts_cli.command("verify")
@click.option("--subject", type=click.UUID, help="Only this subject's chain.")
def receipts_verify(subject: uuid.UUID | None) -> None:
    """Check every receipt's signature and chain link; exit 1 on any break."""
    from consent_service.consent.verification import verify_receipts

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


@click.group("state")
def state_cli() -> None:
    """The consent-state projection."""


@state_cli.command("rebuild")
def state_rebuild() -> None:
    """Recompute the current consent state from the receipts alone."""
    from consent_service.consent.state import rebuild_state

    rows = rebuild_state(current_session())
    db.session.commit()
    click.echo(f"rebuilt {rows} consent-state rows from receipts")


@click.group("policy")
def policy_cli() -> None:
    """Policy documents and versions."""


@policy_cli.command("list")
@click.argument("property_key")
@click.argument("document_key")
def policy_list(property_key: str, document_key: str) -> None:
    """List a document's versions."""
    from consent_service.documents.versions import get_document

    document = _domain(lambda: get_document(current_session(), property_key, document_key))
    for v in document.versions:
        label = f"v{v.number}" if v.number else "draft"
        click.echo(
            f"id={v.id} {label:<6} {v.status.value:<9} material={v.material!s:<5} "
            f"effective={v.effective_at} sha256={v.sha256}"
        )


@policy_cli.command("draft")
@click.argument("property_key")
@click.argument("document_key")
@click.option("--file", "body_file", type=click.File("r", encoding="utf-8"), required=True)
@click.option("--material/--not-material", default=False)
@click.option("--summary", multiple=True, metavar="LOCALE=TEXT", help="Change summary per locale.")
@click.option("--effective-at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]))
def policy_draft(
    property_key: str,
    document_key: str,
    body_file: IO[str],
    material: bool,
    summary: tuple[str, ...],
    effective_at: dt.datetime | None,
) -> None:
    """Create a draft version from a Markdown file."""
    from consent_service.documents.versions import create_draft
    from consent_service.documents.versions import get_document

    def run() -> int:
        document = get_document(current_session(), property_key, document_key)
        version = create_draft(
            current_session(),
            document,
            body_file.read(),
            material=material,
            change_summary=_summaries(summary),
            effective_at=_aware(effective_at),
        )
        return version.id

    version_id = _domain(run)
    db.session.commit()
    click.echo(f"created draft id={version_id}")


@policy_cli.command("edit")
@click.argument("version_id", type=int)
@click.option("--file", "body_file", type=click.File("r", encoding="utf-8"))
@click.option("--material/--not-material", default=None)
@click.option("--summary", multiple=True, metavar="LOCALE=TEXT")
def policy_edit(
    version_id: int,
    body_file: IO[str] | None,
    material: bool | None,
    summary: tuple[str, ...],
) -> None:
    """Change a draft (published versions refuse)."""
    from consent_service.documents.versions import edit_draft

    version = _version(version_id)
    _domain(
        lambda: edit_draft(
            current_session(),
            version,
            body=body_file.read() if body_file else None,
            material=material,
            change_summary=_summaries(summary) if summary else None,
        )
    )
    db.session.commit()
    click.echo(f"updated draft id={version_id} sha256={version.sha256}")


@policy_cli.command("publish")
@click.argument("version_id", type=int)
def policy_publish(version_id: int) -> None:
    """Publish a draft: it gets the next number and can never change again."""
    from consent_service.documents.versions import publish

    version = _domain(lambda: publish(current_session(), _version(version_id)))
    db.session.commit()
    click.echo(
        f"published {version.document.key} v{version.number} "
        f"(material={version.material}) sha256={version.sha256}"
    )


@click.group("signing-key")
def signing_key_cli() -> None:
    """Receipt signing keys."""


@signing_key_cli.command("generate")
@click.option("--kid", help="Key id; default: today's date and a random suffix.")
def signing_key_generate(kid: str | None) -> None:
    """Print a new key for CONSENT_SIGNING_KEYS (put it first to rotate; keep the old after)."""
    from consent_service.infra.signing import generate_signing_key

    click.echo(generate_signing_key(kid).spec())


def _domain(action: Callable[[], T]) -> T:
    try:
        return action()
    except ConsentServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None


def _version(version_id: int) -> PolicyVersion:
    version = current_session().get(PolicyVersion, version_id)
    if version is None:
        raise click.ClickException(f"no policy version with id {version_id}")
    return version


def _summaries(items: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for item in items:
        locale, sep, text = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected LOCALE=TEXT, got {item!r}", param_hint="--summary")
        pairs[locale.strip()] = text.strip()
    return pairs


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)
