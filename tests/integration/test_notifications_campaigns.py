"""Publishing a material version starts a notice campaign: one email row per customer with an
address who has not unsubscribed, written in the publish transaction."""

from __future__ import annotations

import sqlalchemy as sa

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.messaging.campaigns import enqueue_recipients
from consent_service.models import EmailCampaign
from consent_service.models import EmailSubscription
from consent_service.models import OutboxMessage
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import VersionStatus
from consent_service.models.base import utcnow
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import publish_version


def _campaign_of(session, version) -> EmailCampaign | None:
    return session.scalar(
        sa.select(EmailCampaign).where(EmailCampaign.policy_version_id == version.id)
    )


def _recipients(session, campaign) -> set:
    return set(
        session.scalars(
            sa.select(OutboxMessage.identity_id).where(OutboxMessage.campaign_id == campaign.id)
        )
    )


def test_a_material_version_queues_one_email_per_customer_with_an_address(app, session):
    ada = add_customer(app, session, "ada@example.com")
    bob = add_customer(app, session, "bob@example.com", locale="de")
    add_customer(app, session, None, locale="fr")  # no address: nobody to write to
    version = publish_version(session)
    campaign = _campaign_of(session, version)
    assert campaign is not None and campaign.kind == "policy-notice"
    assert _recipients(session, campaign) == {ada.id, bob.id}
    assert campaign.recipient_count == 2
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id))
    for row in rows:
        assert (row.channel, row.status, row.attempts) == ("email", "pending", 0)
        assert str(campaign.id) in row.payload and "@" not in row.payload  # no address


def test_customers_who_unsubscribed_are_left_out(app, session):
    stays = add_customer(app, session, "stays@example.com")
    left = add_customer(app, session, "left@example.com")
    resubscribed = add_customer(app, session, "back@example.com")
    for identity, subscribed in ((left, False), (resubscribed, True)):
        session.add(
            EmailSubscription(
                identity_id=identity.id,
                list_key="policy-notices",
                subscribed=subscribed,
                source="preferences",
            )
        )
    session.flush()
    campaign = _campaign_of(session, publish_version(session))
    assert _recipients(session, campaign) == {stays.id, resubscribed.id}


def test_customers_of_other_properties_are_left_out(app, session):
    demo = add_customer(app, session, "demo@example.com")
    other = Property(key="other-shop", name="Other", locales=["en"])
    session.add(other)
    session.flush()
    add_customer(app, session, "other@example.com", property_key="other-shop")
    campaign = _campaign_of(session, publish_version(session))
    assert _recipients(session, campaign) == {demo.id}


def test_a_version_that_is_not_material_starts_no_campaign(app, session):
    add_customer(app, session, "ada@example.com")
    assert _campaign_of(session, publish_version(session, material=False)) is None


def test_a_material_change_of_another_document_starts_no_campaign(app, session):
    add_customer(app, session, "ada@example.com")
    version = publish_version(session, document_key="cookie-policy")
    assert _campaign_of(session, version) is None


def test_the_campaign_rolls_back_with_the_publication(app, session):
    add_customer(app, session, "ada@example.com")
    document = get_document(session, "demo-shop", "privacy-policy")
    draft = create_draft(session, document, "# Policy\n\nRolled back.\n", material=True)
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    publish(session, draft)
    assert _campaign_of(session, draft) is not None
    session.rollback()
    assert session.get(PolicyVersion, draft.id).status is VersionStatus.DRAFT
    assert _campaign_of(session, draft) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before


def test_enqueueing_again_adds_no_second_message_for_anyone(app, session):
    add_customer(app, session, "ada@example.com")
    campaign = _campaign_of(session, publish_version(session))
    assert enqueue_recipients(session, campaign, utcnow()) == 0
    assert len(_recipients(session, campaign)) == 1


def test_the_cli_shows_progress_and_retries_failed_messages(app, session):
    add_customer(app, session, "ada@example.com")
    add_customer(app, session, "bob@example.com")
    campaign = _campaign_of(session, publish_version(session))
    first = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)
    ).first()
    first.status, first.last_error, first.last_status = "dead", "550 5.1.1 mailbox unknown", 550
    session.commit()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["campaigns", "list", "--property", "demo-shop"])
    assert listed.exit_code == 0, listed.output
    assert f"{campaign.id} demo-shop policy-notice privacy-policy v3" in listed.output
    assert "2 recipients, 1 queued, 0 sent, 1 failed" in listed.output
    shown = runner.invoke(args=["campaigns", "show", str(campaign.id)])
    assert shown.exit_code == 0, shown.output
    assert "failed     1" in shown.output
    assert "1 failed: 550 5.1.1 mailbox unknown" in shown.output
    retried = runner.invoke(args=["campaigns", "retry-failed", str(campaign.id)])
    assert retried.exit_code == 0, retried.output
    assert "1 failed message(s)" in retried.output
    session.expire_all()
    assert {
        m.status
        for m in session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)
        )
    } == {"pending"}


def test_the_cli_names_an_unknown_campaign(app):
    result = app.test_cli_runner().invoke(
        args=["campaigns", "show", "00000000-0000-0000-0000-000000000000"]
    )
    assert result.exit_code != 0
    assert "no campaign" in result.output
