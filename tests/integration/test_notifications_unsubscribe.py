"""One-click unsubscribe (RFC 8058): POST unsubscribes with the signed token alone, GET only
asks, and an altered token changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from consent_service.messaging.campaigns import unsubscribe_token
from consent_service.models import EmailCampaign
from consent_service.models import EmailSubscription
from consent_service.models import OutboxMessage
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import publish_version
from tests.integration.test_notifications_sink import running_sink
from tests.integration.test_notifications_sink import send_due

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def _url(app, identity) -> str:
    token = unsubscribe_token(app.config["SECRET_KEY"], identity.id, "policy-notices")
    return f"/v1/email/unsubscribe?token={token}"


def _subscription(session, identity) -> EmailSubscription | None:
    session.expire_all()
    return session.get(EmailSubscription, (identity.id, "policy-notices"))


def test_the_link_from_a_sent_notice_unsubscribes_with_one_post(app, session, client):
    ada = add_customer(app, session, "ada@example.com")
    bob = add_customer(app, session, "bob@example.com")
    publish_version(session)
    session.commit()
    with running_sink() as (server, port):
        send_due(app, session, port)
        header = server.to("ada@example.com")[0]["List-Unsubscribe"]
    url = header.strip("<>").removeprefix("http://consent.test")
    response = client.post(url, data=ONE_CLICK)  # no cookies, no credentials
    assert response.status_code == 200
    subscription = _subscription(session, ada)
    assert (subscription.subscribed, subscription.source) == (False, "one-click")
    later = publish_version(session)
    campaign = session.scalar(
        sa.select(EmailCampaign).where(EmailCampaign.policy_version_id == later.id)
    )
    recipients = set(
        session.scalars(
            sa.select(OutboxMessage.identity_id).where(OutboxMessage.campaign_id == campaign.id)
        )
    )
    assert recipients == {bob.id}


def test_a_multipart_one_click_post_works_too_and_twice_is_harmless(app, session, client):
    ada = add_customer(app, session, "ada@example.com")
    for _ in range(2):
        response = client.post(_url(app, ada), data=ONE_CLICK, content_type="multipart/form-data")
        assert response.status_code == 200
    assert _subscription(session, ada).subscribed is False


def test_opening_the_link_only_asks_and_unsubscribes_nobody(app, session, client):
    ada = add_customer(app, session, "ada@example.com")
    response = client.get(_url(app, ada))
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<form method="post"' in page and 'name="List-Unsubscribe" value="One-Click"' in page
    assert _subscription(session, ada) is None


def test_a_tampered_token_is_a_problem_and_changes_nothing(app, session, client):
    ada = add_customer(app, session, "ada@example.com")
    url = _url(app, ada)
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    for response in (client.post(tampered, data=ONE_CLICK), client.get(tampered)):
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        assert response.json["type"].endswith("/problems/invalid-unsubscribe-link")
    assert client.post("/v1/email/unsubscribe", data=ONE_CLICK).status_code == 400
    assert _subscription(session, ada) is None


def test_a_token_signed_with_another_key_is_refused(app, session, client):
    ada = add_customer(app, session, "ada@example.com")
    forged = unsubscribe_token("not-the-service-key", ada.id, "policy-notices")
    response = client.post(f"/v1/email/unsubscribe?token={forged}", data=ONE_CLICK)
    assert response.status_code == 400
    assert _subscription(session, ada) is None


def test_the_landing_speaks_the_readers_language_and_leads_to_every_other_choice(
    app, session, client
):
    ada = add_customer(app, session, "ada@example.com")
    response = client.post(_url(app, ada), data=ONE_CLICK, headers={"Accept-Language": "de"})
    page = response.get_data(as_text=True)
    assert "Sie sind abgemeldet" in page
    assert 'href="/preferences/?property=demo-shop"' in page
