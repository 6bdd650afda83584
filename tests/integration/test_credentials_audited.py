"""Every way a credential or an endpoint comes to exist is in the audit log (issue #17 item 10):
the admin always audited its own; keys made with ``consent-service keys``, identity secrets
made with ``consent-service identity-secret`` and endpoints registered with the CLI or through
``/v1/webhooks`` were missing."""

from __future__ import annotations

import getpass

import pytest

from consent_service.integrations.api_keys import create_api_key
from tests.integration.test_admin_support import audit_entries

URL = "https://hooks.example.com/consent"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_a_key_created_with_the_cli_is_audited_with_the_os_user(runner, session):
    result = runner.invoke(
        args=["keys", "create", "demo-shop", "--name", "orders", "--scope", "consent:read"]
    )
    assert result.exit_code == 0, result.output
    public_id = result.stdout.strip().split("_")[1]
    [entry] = [e for e in audit_entries(session) if e.target_id == public_id]
    assert entry.action == "api_key.created"
    assert entry.actor == f"cli:{getpass.getuser()}"
    assert entry.after == {
        "property": "demo-shop",
        "name": "orders",
        "scopes": ["consent:read"],
        "rate_limit": None,
    }
    assert result.stdout.strip() not in str(entry.after)


def test_revoking_a_key_with_the_cli_is_audited_once(runner, session):
    issued = create_api_key(session, "demo-shop", name="old", scopes=["consent:read"])
    session.commit()
    for _ in range(2):
        assert runner.invoke(args=["keys", "revoke", issued.key.public_id]).exit_code == 0
    actions = [e.action for e in audit_entries(session) if e.target_id == issued.key.public_id]
    assert actions == ["api_key.revoked"]


def test_an_endpoint_registered_with_the_cli_is_audited(runner, session):
    result = runner.invoke(args=["webhooks", "add", "demo-shop", URL, "--event", "consent.changed"])
    assert result.exit_code == 0, result.output
    [entry] = [e for e in audit_entries(session) if e.action == "webhook.created"]
    assert entry.actor == f"cli:{getpass.getuser()}"
    assert entry.after == {"property": "demo-shop", "url": URL, "events": ["consent.changed"]}


def _register_through_the_api(client, session):
    """A webhooks:manage key, and the answer to registering an endpoint with it."""
    issued = create_api_key(session, "demo-shop", name="crm", scopes=["webhooks:manage"])
    session.commit()
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    response = client.post(
        "/v1/webhooks", json={"url": URL, "event_types": ["consent.changed"]}, headers=headers
    )
    return issued, headers, response


def test_an_endpoint_registered_through_the_api_is_audited_with_the_key(client, session):
    issued, _, response = _register_through_the_api(client, session)
    assert response.status_code == 201, response.json
    [entry] = [e for e in audit_entries(session) if e.target_id == response.json["id"]]
    assert entry.action == "webhook.created"
    assert entry.actor == f"api-key:{issued.key.public_id}"
    assert entry.request_id == response.headers["X-Request-ID"]
    assert response.json["secret"] not in str(entry.after)


def test_deleting_an_endpoint_through_the_api_is_audited_once(client, session):
    _, headers, response = _register_through_the_api(client, session)
    created = response.json
    for _ in range(2):
        assert client.delete(f"/v1/webhooks/{created['id']}", headers=headers).status_code == 204
    actions = [e.action for e in audit_entries(session) if e.target_id == created["id"]]
    assert actions == ["webhook.created", "webhook.disabled"]


def test_an_identity_secret_created_with_the_cli_is_audited_without_the_secret(runner, session):
    result = runner.invoke(args=["identity-secret", "create", "demo-shop"])
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    [entry] = audit_entries(session, "identity_secret.created")
    secret_id = plaintext.split("_")[1]  # cis_<id>_<random>: the id is not the secret
    assert entry.target_id == secret_id
    assert entry.actor == f"cli:{getpass.getuser()}"
    assert entry.after == {"property": "demo-shop"}
    assert plaintext not in str(entry.before) + str(entry.after) + entry.target_id


def test_revoking_an_identity_secret_with_the_cli_is_audited_once(runner, session):
    result = runner.invoke(args=["identity-secret", "create", "demo-shop"])
    secret_id = result.stdout.strip().split("_")[1]
    for _ in range(2):
        assert runner.invoke(args=["identity-secret", "revoke", secret_id]).exit_code == 0
    actions = [e.action for e in audit_entries(session) if e.target_id == secret_id]
    assert actions == ["identity_secret.created", "identity_secret.revoked"]


def test_revoking_an_unknown_identity_secret_is_refused_and_audits_nothing(runner, session):
    result = runner.invoke(args=["identity-secret", "revoke", "00000000"])
    assert result.exit_code != 0
    assert "there is no identity secret '00000000'" in result.output
    assert audit_entries(session, "identity_secret.revoked") == []
