"""``consent-service policy ...``: policy documents' versions, drafted from Markdown files and
published from the command line."""

from __future__ import annotations

import datetime as dt
from typing import IO

import click
from sqlalchemy.orm import Session

from consent_service.cli.running import run_committed
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import edit_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.models import PolicyVersion

AFFECTS_HELP = (
    "A purpose the material change affects (changed or newly added); repeat for each. Only "
    "choices for these are asked again; a material change needs at least one."
)


@click.group("policy")
def policy_cli() -> None:
    """Policy documents and versions."""


@policy_cli.command("list")
@click.argument("property_key")
@click.argument("document_key")
def policy_list(property_key: str, document_key: str) -> None:
    """List a document's versions."""
    with run_committed() as session:
        document = get_document(session, property_key, document_key)
        for v in document.versions:
            label = f"v{v.number}" if v.number else "draft"
            affects = ",".join(v.affected_purposes or ["*"]) if v.material else "-"
            click.echo(
                f"id={v.id} {label:<6} {v.status.value:<9} material={v.material!s:<5} "
                f"affects={affects} effective={v.effective_at} sha256={v.sha256}"
            )


@policy_cli.command("draft")
@click.argument("property_key")
@click.argument("document_key")
@click.option("--file", "body_file", type=click.File("r", encoding="utf-8"), required=True)
@click.option("--material/--not-material", default=False)
@click.option("--affects", multiple=True, metavar="PURPOSE", help=AFFECTS_HELP)
@click.option("--summary", multiple=True, metavar="LOCALE=TEXT", help="Change summary per locale.")
@click.option("--effective-at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]))
def policy_draft(
    property_key: str,
    document_key: str,
    body_file: IO[str],
    material: bool,
    affects: tuple[str, ...],
    summary: tuple[str, ...],
    effective_at: dt.datetime | None,
) -> None:
    """Create a draft version from a Markdown file."""
    with run_committed() as session:
        version = create_draft(
            session,
            get_document(session, property_key, document_key),
            body_file.read(),
            material=material,
            change_summary=_summaries(summary),
            effective_at=_aware(effective_at),
            affected_purposes=list(affects),
        )
    click.echo(f"created draft id={version.id}")


@policy_cli.command("edit")
@click.argument("version_id", type=int)
@click.option("--file", "body_file", type=click.File("r", encoding="utf-8"))
@click.option("--material/--not-material", default=None)
@click.option("--affects", multiple=True, metavar="PURPOSE", help=AFFECTS_HELP)
@click.option("--summary", multiple=True, metavar="LOCALE=TEXT")
def policy_edit(
    version_id: int,
    body_file: IO[str] | None,
    material: bool | None,
    affects: tuple[str, ...],
    summary: tuple[str, ...],
) -> None:
    """Change a draft (published versions refuse)."""
    with run_committed() as session:
        version = _version(session, version_id)
        edit_draft(
            session,
            version,
            body=body_file.read() if body_file else None,
            material=material,
            change_summary=_summaries(summary) if summary else None,
            affected_purposes=list(affects) if affects else None,
        )
    click.echo(f"updated draft id={version_id} sha256={version.sha256}")


@policy_cli.command("publish")
@click.argument("version_id", type=int)
def policy_publish(version_id: int) -> None:
    """Publish a draft: it gets the next number and can never change again."""
    with run_committed() as session:
        version = publish(session, _version(session, version_id))
    affects = (
        f", affects {', '.join(version.affected_purposes)}" if version.affected_purposes else ""
    )
    click.echo(
        f"published {version.document.key} v{version.number} "
        f"(material={version.material}{affects}) sha256={version.sha256}"
    )


def _version(session: Session, version_id: int) -> PolicyVersion:
    version = session.get(PolicyVersion, version_id)
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
