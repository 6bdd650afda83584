"""``consent-service webhooks``: a property's webhook endpoints.

A signing secret is printed once, on creation, and never listed.
"""

from __future__ import annotations

import uuid

import click

from consent_service.cli.running import cli_actor
from consent_service.cli.running import run_committed
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.messaging.webhooks import EVENT_TYPES
from consent_service.properties.lookup import get_property


@click.group("webhooks")
def webhooks_cli() -> None:
    """Webhook endpoints of a property."""


@webhooks_cli.command("add")
@click.argument("property_key")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice(EVENT_TYPES),
    help="Repeat for several event types.",
)
@click.option("--description", default="")
def webhooks_add(property_key: str, url: str, events: tuple[str, ...], description: str) -> None:
    """Register an endpoint and print its signing secret: the only time it is shown."""
    from consent_service.messaging.webhooks import record_endpoint_registered
    from consent_service.messaging.webhooks import register_endpoint

    with run_committed() as session:
        registered = register_endpoint(
            session,
            vault().cipher,
            property_id=get_property(session, property_key).id,
            url=url,
            event_types=events,
            description=description,
            allow_private_networks=settings().webhook_allow_private_networks,
        )
        record_endpoint_registered(session, cli_actor(), registered.endpoint, property_key)
    click.echo(registered.secret)
    click.echo(
        f"registered endpoint {registered.endpoint.id} for {property_key!r} "
        f"({', '.join(registered.endpoint.event_types)}); store the secret now",
        err=True,
    )


@webhooks_cli.command("list")
@click.argument("property_key")
def webhooks_list(property_key: str) -> None:
    """List the property's endpoints (disabled ones too) and their message counts."""
    from consent_service.messaging.webhooks import delivery_counts
    from consent_service.messaging.webhooks import list_endpoints

    with run_committed() as session:
        prop = get_property(session, property_key)
        counts = delivery_counts(session, prop.id)
        for endpoint in list_endpoints(session, prop.id):
            state = f"disabled ({endpoint.disabled_reason})" if endpoint.disabled_at else "live"
            tally = " ".join(f"{k}={v}" for k, v in sorted(counts.get(endpoint.id, {}).items()))
            click.echo(
                f"{endpoint.id} {endpoint.url} [{', '.join(endpoint.event_types)}] {state} {tally}"
            )


@webhooks_cli.command("disable")
@click.argument("property_key")
@click.argument("endpoint_id", type=click.UUID)
def webhooks_disable(property_key: str, endpoint_id: uuid.UUID) -> None:
    """Stop sending to an endpoint; its pending messages become dead (kept, visible)."""
    from consent_service.messaging.webhooks import disable_endpoint
    from consent_service.messaging.webhooks import get_endpoint
    from consent_service.messaging.webhooks import record_endpoint_disabled

    with run_committed() as session:
        endpoint = get_endpoint(session, get_property(session, property_key).id, endpoint_id)
        if endpoint.disabled_at is None:
            disable_endpoint(session, endpoint, reason="disabled from the command line")
            record_endpoint_disabled(session, cli_actor(), endpoint)
    click.echo(f"disabled endpoint {endpoint_id}")


@webhooks_cli.command("redrive")
@click.argument("property_key")
@click.argument("endpoint_id", type=click.UUID)
def webhooks_redrive(property_key: str, endpoint_id: uuid.UUID) -> None:
    """Send a live endpoint's dead messages again (after its receiver was fixed)."""
    from consent_service.messaging.outbox import redrive
    from consent_service.messaging.webhooks import get_endpoint
    from consent_service.models.base import utcnow

    with run_committed() as session:
        endpoint = get_endpoint(session, get_property(session, property_key).id, endpoint_id)
        if endpoint.disabled_at is not None:
            raise click.ClickException("the endpoint is disabled; register a new one instead")
        count = redrive(session, endpoint_id=endpoint.id, now=utcnow())
    click.echo(f"{count} dead message(s) of endpoint {endpoint_id} are due again")
