"""Registering, listing and disabling endpoints, in the domain and from the command line."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from consent_service.errors import UnknownWebhookEndpoint
from consent_service.errors import ValidationFailed
from consent_service.infra.pii import UndecryptableData
from consent_service.messaging.outbox import redrive
from consent_service.messaging.webhooks import disable_endpoint
from consent_service.messaging.webhooks import endpoint_secret
from consent_service.messaging.webhooks import get_endpoint
from consent_service.messaging.webhooks import register_endpoint
from consent_service.models import OutboxMessage
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from tests.webhook_receiver import register

URL = "https://hooks.example.com/consent"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_the_secret_is_stored_encrypted_and_bound_to_its_endpoint(app, session) -> None:
    cipher = app.extensions["vault"].cipher
    first = register(app, session, URL)
    second = register(app, session, URL)
    assert first.secret != second.secret
    assert endpoint_secret(cipher, first.endpoint.id, first.endpoint.secret_ciphertext) == (
        first.secret
    )
    with pytest.raises(UndecryptableData):  # a ciphertext copied to another row will not open
        endpoint_secret(cipher, second.endpoint.id, first.endpoint.secret_ciphertext)


def test_event_types_are_kept_once_in_canonical_order(app, session) -> None:
    endpoint = register(
        app, session, URL, ("policy.published", "consent.changed", "policy.published")
    ).endpoint
    assert endpoint.event_types == ["consent.changed", "policy.published"]


def test_plain_http_is_refused_unless_private_networks_are_allowed(app, session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        register_endpoint(
            session,
            app.extensions["vault"].cipher,
            property_id=get_property(session, "demo-shop").id,
            url="http://hooks.example.com/consent",
            event_types=["consent.changed", "consent.exploded"],
            allow_private_networks=False,
        )
    assert [e.pointer for e in refused.value.errors] == ["/url", "/event_types/1"]


def test_disabling_buries_the_pending_messages_and_keeps_them(app, session, record) -> None:
    endpoint = register(app, session, URL).endpoint
    record(uuid.uuid4(), analytics=True)
    disable_endpoint(session, endpoint, reason="moved to a new CRM")
    message = session.scalars(sa.select(OutboxMessage)).one()
    session.refresh(message)
    assert message.status == "dead"
    assert message.last_error == "endpoint disabled: moved to a new CRM"


def test_an_unknown_endpoint_id_is_refused(session) -> None:
    with pytest.raises(UnknownWebhookEndpoint):
        get_endpoint(session, get_property(session, "demo-shop").id, uuid.uuid4())


def test_the_cli_adds_lists_and_disables_an_endpoint(runner) -> None:
    added = runner.invoke(args=["webhooks", "add", "demo-shop", URL, "--event", "consent.changed"])
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip().splitlines()[0]
    assert secret.startswith("whsec_")
    endpoint_id = added.stderr.split("registered endpoint ")[1].split()[0]
    listed = runner.invoke(args=["webhooks", "list", "demo-shop"])
    assert f"{endpoint_id} {URL} [consent.changed] live" in listed.output
    assert "whsec_" not in listed.output
    disabled = runner.invoke(args=["webhooks", "disable", "demo-shop", endpoint_id])
    assert disabled.exit_code == 0, disabled.output
    listed = runner.invoke(args=["webhooks", "list", "demo-shop"])
    assert "disabled (disabled from the command line)" in listed.output


def test_the_cli_explains_a_refused_url(runner) -> None:
    result = runner.invoke(
        args=["webhooks", "add", "demo-shop", "ftp://x.example/", "--event", "consent.changed"]
    )
    assert result.exit_code == 1
    assert "cannot be registered" in result.output


def test_the_worker_command_drains_the_outbox_once(app, session, runner, record) -> None:
    from tests.webhook_receiver import running_receiver

    with running_receiver() as receiver:
        register(app, session, receiver.url)
        record(uuid.uuid4(), analytics=True)
        session.commit()
        result = runner.invoke(args=["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "1 delivered" in result.output
        assert len(receiver.requests) == 1


def test_the_cli_redrives_dead_messages_under_their_old_ids(app, session, runner, record):
    endpoint = register(app, session, URL).endpoint
    record(uuid.uuid4(), analytics=True)
    message = session.scalars(sa.select(OutboxMessage)).one()
    message.status, message.attempts = "dead", 10
    session.commit()
    result = runner.invoke(args=["webhooks", "redrive", "demo-shop", str(endpoint.id)])
    assert result.exit_code == 0, result.output
    assert "1 dead message(s)" in result.output
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 0)


def test_a_redriven_message_keeps_no_lease_from_before(app, session, record):
    endpoint = register(app, session, URL).endpoint
    record(uuid.uuid4(), analytics=True)
    message = session.scalars(sa.select(OutboxMessage)).one()
    now = utcnow()
    message.status, message.attempts = "dead", 10
    message.locked_until = now + dt.timedelta(hours=1)  # a lease a crashed worker left behind
    session.flush()
    assert redrive(session, endpoint_id=endpoint.id, now=now) == 1
    session.refresh(message)
    assert (message.status, message.attempts, message.locked_until) == ("pending", 0, None)
