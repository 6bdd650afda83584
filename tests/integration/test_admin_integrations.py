"""API keys and webhook endpoints in the admin: secrets shown once, changes audited, the
admin role only."""

from __future__ import annotations

import sqlalchemy as sa

from consent_service.models import ApiKey
from consent_service.models import AuditEntry
from consent_service.models import WebhookEndpoint
from tests.integration.test_admin_support import signed_in


def test_an_admin_creates_a_key_that_is_shown_once_and_works(app, session, client):
    admin = signed_in(app, session, "admin")
    page = admin.post(
        "/admin/integrations/keys",
        {"property": "demo-shop", "name": "orders", "scopes": "consent:read"},
    ).get_data(as_text=True)
    plaintext = page.split('<code class="secret">')[1].split("</code>")[0]
    assert plaintext.startswith("csk_")
    answer = client.get(
        "/v1/decisions",
        query_string={"subject": "customer:c1", "purpose": "marketing"},
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert answer.status_code == 200
    assert plaintext not in admin.get("/admin/integrations/").get_data(as_text=True)


def test_revoking_a_key_is_audited(app, session):
    admin = signed_in(app, session, "admin")
    admin.post(
        "/admin/integrations/keys",
        {"property": "demo-shop", "name": "to-revoke", "scopes": "consent:read"},
    )
    key = session.scalars(sa.select(ApiKey).where(ApiKey.name == "to-revoke")).one()
    admin.post(f"/admin/integrations/keys/{key.public_id}/revoke")
    session.refresh(key)
    assert key.revoked_at is not None
    actions = session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.target_id == key.public_id)
    ).all()
    assert actions == ["api_key.created", "api_key.revoked"]


def test_a_key_without_scopes_is_refused_with_the_reason(app, session):
    admin = signed_in(app, session, "admin")
    response = admin.post("/admin/integrations/keys", {"property": "demo-shop", "name": "x"})
    assert response.status_code == 422
    assert "at least one scope" in response.get_data(as_text=True)


def test_an_admin_registers_and_disables_a_webhook_endpoint(app, session):
    admin = signed_in(app, session, "admin")
    page = admin.post(
        "/admin/integrations/webhooks",
        {
            "property": "demo-shop",
            "url": "https://hooks.example/consent",
            "event_types": "consent.changed",
        },
    ).get_data(as_text=True)
    assert "whsec_" in page
    endpoint = session.scalars(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.url == "https://hooks.example/consent")
    ).one()
    admin.post(f"/admin/integrations/webhooks/{endpoint.property_id}/{endpoint.id}/disable")
    session.refresh(endpoint)
    assert endpoint.disabled_at is not None


def test_an_editor_cannot_manage_integrations(app, session):
    editor = signed_in(app, session, "editor")
    assert editor.get("/admin/integrations/").status_code == 403
    response = editor.post(
        "/admin/integrations/keys",
        {"property": "demo-shop", "name": "x", "scopes": "consent:read"},
    )
    assert response.status_code == 403


def test_revoking_an_unknown_key_is_an_html_404_that_names_it(app, session):
    admin = signed_in(app, session, "admin")
    response = admin.post("/admin/integrations/keys/csk_nosuchkey/revoke")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "csk_nosuchkey" in response.get_data(as_text=True)
