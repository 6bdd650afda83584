"""The SSRF guard by what an address reaches (issue #13): IPv6 forms that carry a loopback,
private or metadata IPv4 address are refused at registration in production mode (422, nothing
written) and at delivery (refused before any connection), while public addresses pass."""

from __future__ import annotations

import dataclasses
import ipaddress
import uuid

import pytest
import sqlalchemy as sa

from consent_service.integrations.api_keys import create_api_key
from consent_service.messaging.http_transport import HttpTransport
from consent_service.messaging.webhooks import TransportError
from consent_service.messaging.worker import build_worker
from consent_service.models import OutboxMessage
from consent_service.models import WebhookEndpoint
from tests.unit.test_public_addresses import teredo
from tests.webhook_receiver import register
from tests.webhook_receiver import running_receiver

REFUSED_HOSTS = [
    "[64:ff9b::a9fe:a9fe]",  # NAT64 -> 169.254.169.254
    "[64:ff9b::7f00:1]",  # NAT64 -> 127.0.0.1
    "[64:ff9b:1::a9fe:a9fe]",  # local-use NAT64
    "[2002:7f00:1::1]",  # 6to4 -> 127.0.0.1
    "[::127.0.0.1]",  # IPv4-compatible
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:a9fe:a9fe]",  # IPv4-mapped metadata, written in hex
    f"[{teredo('127.0.0.1')}]",  # Teredo, client 127.0.0.1 stored inverted
    "[fd00:ec2::254]",  # the EC2 metadata service over IPv6
    "[fe80::1]",
    "[::1]",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.0.1",  # CGNAT
    "10.0.0.1",
    "0.0.0.0",
    "2130706433",  # 127.0.0.1 as one decimal number
    "0xa9.0xfe.0xa9.0xfe",  # 169.254.169.254 in hex
]


def literal(host: str) -> bool:
    """Whether ``host`` is written the way getaddrinfo answers (a canonical address)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


PUBLIC_HOSTS = ["[2001:4860:4860::8888]", "8.8.8.8", "[64:ff9b::808:808]"]


@pytest.fixture
def production_guard(app, monkeypatch):
    """The app as production runs it: private networks not allowed."""
    settings = app.extensions["consent_settings"]
    guarded = dataclasses.replace(settings, webhook_allow_private_networks=False)
    monkeypatch.setitem(app.extensions, "consent_settings", guarded)


@pytest.fixture
def manager(session):
    issued = create_api_key(session, "demo-shop", name="ssrf tests", scopes=["webhooks:manage"])
    session.commit()
    return {"Authorization": f"Bearer {issued.plaintext}"}


def endpoints(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint))


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_registering_a_url_that_reaches_a_private_address_is_422_and_writes_nothing(
    client, session, manager, production_guard, host
):
    before = endpoints(session)
    response = client.post(
        "/v1/webhooks",
        json={"url": f"https://{host}/latest/meta-data/", "event_types": ["consent.changed"]},
        headers=manager,
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [e["pointer"] for e in response.json["errors"]] == ["/url"]
    assert "public address" in response.json["errors"][0]["detail"]
    assert endpoints(session) == before


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_registering_a_public_address_is_allowed(client, manager, production_guard, host):
    response = client.post(
        "/v1/webhooks",
        json={"url": f"https://{host}/hook", "event_types": ["consent.changed"]},
        headers=manager,
    )
    assert response.status_code == 201


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_delivery_to_a_private_address_is_refused_before_connecting(app, session, record, host):
    with running_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        # Registered while private networks were allowed (or DNS changed since): the
        # worker's own check at delivery time is what stops it.
        register(app, session, f"https://{host}:{port}/hook")
        record(uuid.uuid4(), analytics=True)
        session.commit()
        worker = build_worker(session, vault=app.extensions["vault"], allow_private_networks=False)
        assert worker.run(once=True).retrying == 1
        assert receiver.requests == []
    error = session.scalars(sa.select(OutboxMessage.last_error)).one()
    assert "loopback, private or link-local" in error


@pytest.mark.parametrize("host", [h.strip("[]") for h in REFUSED_HOSTS if literal(h.strip("[]"))])
def test_the_transport_checks_what_the_name_resolves_to_at_each_delivery(host):
    answers = iter([["93.184.215.14"], [host]])  # DNS changes between two deliveries
    transport = HttpTransport(allow_private_networks=False, resolve=lambda _h, _p: next(answers))
    assert transport.vetted_address("hooks.example.com", 443) == "93.184.215.14"
    with pytest.raises(TransportError, match="loopback, private or link-local"):
        transport.vetted_address("hooks.example.com", 443)
