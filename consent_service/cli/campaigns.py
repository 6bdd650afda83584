"""``consent-service campaigns``: policy-change email campaigns and their progress.

Each message of a campaign is an outbox row (channel ``email``): queued (pending, including
those waiting for a retry), sent (delivered) or failed (dead, with the SMTP server's reason).
"""

from __future__ import annotations

import uuid

import click

from consent_service.cli.running import run_committed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.models import EmailCampaign
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.properties.lookup import get_property


@click.group("campaigns")
def campaigns_cli() -> None:
    """Email campaigns (policy-change notices)."""


def _describe(campaign: EmailCampaign) -> str:
    session = current_session()
    row = session.execute(
        db.select(Property.key, PolicyDocument.key, PolicyVersion.number)
        .select_from(EmailCampaign)
        .join(Property, Property.id == EmailCampaign.property_id)
        .outerjoin(PolicyVersion, PolicyVersion.id == EmailCampaign.policy_version_id)
        .outerjoin(PolicyDocument, PolicyDocument.id == PolicyVersion.document_id)
        .where(EmailCampaign.id == campaign.id)
    ).one()
    what = f"{row[1]} v{row[2]}" if row[1] else "-"
    return f"{row[0]} {campaign.kind} {what} created {campaign.created_at:%Y-%m-%d %H:%M}Z"


def _get(campaign_id: uuid.UUID) -> EmailCampaign:
    from consent_service.messaging.campaigns import get_campaign

    campaign = get_campaign(current_session(), campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign {campaign_id}")
    return campaign


@campaigns_cli.command("list")
@click.option("--property", "property_key", help="Only this property's campaigns.")
def campaigns_list(property_key: str | None) -> None:
    """Every campaign, newest first, with its progress."""
    from consent_service.messaging.campaigns import campaign_progress
    from consent_service.messaging.campaigns import list_campaigns

    with run_committed() as session:
        property_id = get_property(session, property_key).id if property_key else None
        for campaign in list_campaigns(session, property_id):
            progress = campaign_progress(session, campaign)
            click.echo(
                f"{campaign.id} {_describe(campaign)}: {campaign.recipient_count} recipients, "
                f"{progress.queued} queued, {progress.sent} sent, {progress.failed} failed"
            )


@campaigns_cli.command("show")
@click.argument("campaign_id", type=click.UUID)
def campaigns_show(campaign_id: uuid.UUID) -> None:
    """One campaign's progress and why messages failed."""
    from consent_service.messaging.campaigns import campaign_progress

    campaign = _get(campaign_id)
    progress = campaign_progress(current_session(), campaign)
    click.echo(f"campaign   {campaign.id}")
    click.echo(f"           {_describe(campaign)}")
    click.echo(f"recipients {campaign.recipient_count}")
    click.echo(f"queued     {progress.queued} ({progress.retrying} after a failed attempt)")
    click.echo(f"sent       {progress.sent}")
    click.echo(f"failed     {progress.failed}")
    if progress.failures:
        click.echo("reasons:")
        for status, error, count in progress.failures:
            label = "failed" if status == "dead" else "retrying" if status == "pending" else status
            click.echo(f"  {count:>7} {label}: {error}")


@campaigns_cli.command("retry-failed")
@click.argument("campaign_id", type=click.UUID)
def campaigns_retry_failed(campaign_id: uuid.UUID) -> None:
    """Send a campaign's failed messages again (same Message-IDs), due now."""
    from consent_service.messaging.campaigns import retry_failed
    from consent_service.models.base import utcnow

    with run_committed() as session:
        count = retry_failed(session, _get(campaign_id), utcnow())
    click.echo(f"{count} failed message(s) of campaign {campaign_id} are due again")
