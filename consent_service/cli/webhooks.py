"""``consent-service worker`` (drains the outbox) and ``consent-service webhooks`` (endpoints).

The worker runs until SIGTERM (or, with ``--once``, until nothing is due) and commits after
every step; a signing secret is printed once, on creation, and never listed.
"""

from __future__ import annotations

import datetime as dt
import uuid

import click

from consent_service.cli.core import _domain
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.messaging.webhooks import EVENT_TYPES
from consent_service.properties.lookup import get_property


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0.1),
    help="How long a claim lasts before another worker may take it over "
    "(default: enough for a whole batch of timed-out attempts).",
)
def worker_cli(
    once: bool, batch_size: int, poll_interval: float, lease_seconds: float | None
) -> None:
    """Send the outbox's messages (signed webhooks, notice emails), retrying with backoff."""
    from consent_service.messaging.worker import build_worker
    from consent_service.messaging.worker import email_setup
    from consent_service.messaging.worker import stopped_by_signals

    worker = build_worker(
        current_session(),
        cipher=vault().cipher,
        allow_private_networks=settings().webhook_allow_private_networks,
        batch_size=batch_size,
        poll_interval=poll_interval,
        lease=dt.timedelta(seconds=lease_seconds) if lease_seconds else None,
        email=email_setup(settings(), vault()),
    )
    with stopped_by_signals(worker):
        total = worker.run(once=once)
    click.echo(
        f"worker stopped: {total.delivered} delivered, {total.retrying} to retry, "
        f"{total.dead} dead, {total.released} handed back",
        err=True,
    )


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
    from consent_service.messaging.webhooks import register_endpoint

    registered = _domain(
        lambda: register_endpoint(
            current_session(),
            vault().cipher,
            property_id=get_property(current_session(), property_key).id,
            url=url,
            event_types=events,
            description=description,
            allow_private_networks=settings().webhook_allow_private_networks,
        )
    )
    db.session.commit()
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

    session = current_session()
    prop = _domain(lambda: get_property(session, property_key))
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

    session = current_session()

    def run() -> None:
        prop = get_property(session, property_key)
        endpoint = get_endpoint(session, prop.id, endpoint_id)
        disable_endpoint(session, endpoint, reason="disabled from the command line")

    _domain(run)
    db.session.commit()
    click.echo(f"disabled endpoint {endpoint_id}")


@webhooks_cli.command("redrive")
@click.argument("property_key")
@click.argument("endpoint_id", type=click.UUID)
def webhooks_redrive(property_key: str, endpoint_id: uuid.UUID) -> None:
    """Send a live endpoint's dead messages again (after its receiver was fixed)."""
    from consent_service.messaging.outbox import redrive
    from consent_service.messaging.webhooks import get_endpoint
    from consent_service.models.base import utcnow

    session = current_session()

    def run() -> int:
        endpoint = get_endpoint(session, get_property(session, property_key).id, endpoint_id)
        if endpoint.disabled_at is not None:
            raise click.ClickException("the endpoint is disabled; register a new one instead")
        return redrive(session, endpoint_id=endpoint.id, now=utcnow())

    count = _domain(run)
    db.session.commit()
    click.echo(f"{count} dead message(s) of endpoint {endpoint_id} are due again")
