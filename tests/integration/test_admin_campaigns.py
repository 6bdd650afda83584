"""Campaign progress in the admin, and a publisher's retry of failed messages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.models import EmailCampaign
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from tests.integration.test_admin_support import signed_in
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import publish_version


@pytest.fixture
def campaign(app, session):
    add_customer(app, session, "ann@example.com")
    add_customer(app, session, "ben@example.com")
    version = publish_version(session)
    session.commit()
    found = session.scalar(
        sa.select(EmailCampaign).where(EmailCampaign.policy_version_id == version.id)
    )
    dead = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.campaign_id == found.id).limit(1)
    ).one()
    dead.status = OutboxStatus.DEAD
    dead.last_error = "550 5.1.1 Mailbox unknown"
    session.commit()
    return found


def test_the_campaign_page_shows_progress_and_failure_reasons(app, session, campaign):
    viewer = signed_in(app, session, "viewer")
    page = viewer.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert "550 5.1.1 Mailbox unknown" in page
    assert "<dt>Failed</dt><dd>1</dd>" in page
    assert "send the 1 failed" not in page.lower()  # a viewer may not retry


def test_a_publisher_retries_failed_messages_and_it_is_audited(app, session, campaign):
    publisher = signed_in(app, session, "publisher")
    response = publisher.post(f"/admin/campaigns/{campaign.id}/retry")
    assert response.status_code == 302
    statuses = session.scalars(
        sa.select(OutboxMessage.status).where(OutboxMessage.campaign_id == campaign.id)
    ).all()
    assert OutboxStatus.DEAD not in statuses


def test_a_viewer_cannot_retry(app, session, campaign):
    viewer = signed_in(app, session, "viewer")
    assert viewer.post(f"/admin/campaigns/{campaign.id}/retry").status_code == 403


def test_the_campaign_list_shows_each_campaign(app, session, campaign):
    viewer = signed_in(app, session, "viewer")
    page = viewer.get("/admin/campaigns/").get_data(as_text=True)
    assert f"/admin/campaigns/{campaign.id}" in page
