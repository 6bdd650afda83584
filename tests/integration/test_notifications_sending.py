"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1): headers, localized
text and HTML, working links, retries on 4xx, no retry on 5xx, a server that is down, and
the throttle's arithmetic."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from consent_service.messaging.campaigns import verify_preferences_token
from consent_service.messaging.email import Throttle
from consent_service.messaging.email import choose_locale
from consent_service.models import EmailCampaign
from consent_service.models import OutboxMessage
from consent_service.models.base import utcnow
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import free_port
from tests.integration.test_notifications_sink import publish_version
from tests.integration.test_notifications_sink import running_sink
from tests.integration.test_notifications_sink import send_due


@pytest.fixture
def sink():
    with running_sink() as running:
        yield running


def _rows(session, version) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .join(EmailCampaign, EmailCampaign.id == OutboxMessage.campaign_id)
            .where(EmailCampaign.policy_version_id == version.id)
        )
    )


def _parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _link(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    assert match, (pattern, text)
    return match.group(0)


def test_each_customer_gets_one_message_with_sender_and_list_headers(app, session, sink):
    server, port = sink
    ada = add_customer(app, session, "ada@example.com")
    version = publish_version(session)
    session.commit()
    report = send_due(app, session, port)
    assert report.delivered == 1
    (message,) = server.messages
    (row,) = _rows(session, version)
    assert row.status == "delivered" and row.delivered_at is not None
    assert message["From"] == "Northwind Privacy <privacy@northwind.example>"
    assert message["To"] == "ada@example.com"
    assert message["Reply-To"] == "privacy@northwind.example"
    assert message["Subject"] == "Northwind Outfitters: we have updated our privacy policy"
    assert message["Message-ID"] == f"<{row.id.hex}@northwind.example>"  # stable per row
    assert message["Date"]
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<http://consent\.test/v1/email/unsubscribe\?token=[\w.-]+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ada.id  # the token names the customer (see test_notifications_unsubscribe)


def test_the_message_has_text_and_html_in_the_customers_language(app, session, sink):
    server, port = sink
    add_customer(app, session, "anna@example.com", locale="de")
    add_customer(app, session, "zoe@example.com", locale="fr-CA")
    add_customer(app, session, "ann@example.com")  # no locale: the property's (en)
    publish_version(session)
    session.commit()
    send_due(app, session, port)
    (german,) = server.to("anna@example.com")
    assert (
        german["Subject"]
        == "Northwind Outfitters: Wir haben unsere Datenschutzerklärung aktualisiert"
    )
    assert german["Content-Language"] == "de"
    text, html = _parts(german)
    assert "Guten Tag" in text and "Wir speichern Bestelldaten jetzt 6 Jahre." in text
    assert "Guten Tag" in html and "Wir speichern Bestelldaten jetzt 6 Jahre." in html
    (french,) = server.to("zoe@example.com")
    assert "Bonjour" in _parts(french)[0] and "commandes 6 ans" in _parts(french)[1]
    (english,) = server.to("ann@example.com")
    assert "We now keep order data for 6 years." in _parts(english)[0]


def test_a_language_without_templates_falls_back_to_the_propertys_default():
    available = frozenset({"en", "de", "fr"})
    assert choose_locale("es", "de", available) == "de"
    assert choose_locale("de-AT", "en", available) == "de"
    assert choose_locale(None, "fr", available) == "fr"
    assert choose_locale("es", "pt", available) == "en"


def test_the_links_lead_to_the_version_its_diff_and_the_customers_preferences(
    app, session, client, sink
):
    server, port = sink
    ada = add_customer(app, session, "ada@example.com")
    version = publish_version(session)
    session.commit()
    send_due(app, session, port)
    text, html = _parts(server.messages[0])
    policy = _link(text, r"http://consent\.test/policies/demo-shop/privacy-policy/\d+(?=\s)")
    assert policy == f"http://consent.test/policies/demo-shop/privacy-policy/{version.number}"
    response = client.get(policy.removeprefix("http://consent.test"))
    assert response.status_code == 200 and b"New text." in response.data
    assert response.mimetype == "text/html"  # the page people read, not the raw Markdown
    diff = _link(text, r"http://consent\.test/policies/\S+/diff/\S+")
    assert diff == "http://consent.test/policies/demo-shop/privacy-policy/diff/2..3"
    preferences = _link(text, r"http://consent\.test/preferences/\?token=\S+")
    token = preferences.split("token=")[1]
    assert verify_preferences_token(app.config["SECRET_KEY"], token) == ada.id
    assert policy in html and preferences in html.replace("&amp;", "&")


def test_a_temporary_smtp_failure_is_retried_later(app, session, sink):
    server, port = sink
    add_customer(app, session, "ada@example.com")
    version = publish_version(session)
    session.commit()
    server.data_answers.append("451 4.3.0 Try again later")
    report = send_due(app, session, port)
    assert report.retrying == 1 and server.messages == []
    (row,) = _rows(session, version)
    assert (row.status, row.last_status, row.attempts) == ("pending", 451, 1)
    assert "451" in row.last_error and row.next_attempt_at > utcnow()
    send_due(app, session, port, at=utcnow() + dt.timedelta(hours=1))
    (row,) = _rows(session, version)
    assert row.status == "delivered" and row.attempts == 2
    assert len(server.messages) == 1


def test_a_permanent_smtp_failure_fails_the_message_with_the_reason(app, session, sink):
    server, port = sink
    add_customer(app, session, "gone@example.com")
    add_customer(app, session, "ada@example.com")
    version = publish_version(session)
    session.commit()
    server.refused["gone@example.com"] = "550 5.1.1 Mailbox unknown"
    report = send_due(app, session, port)
    assert (report.delivered, report.dead) == (1, 1)
    failed = next(r for r in _rows(session, version) if r.status == "dead")
    assert failed.last_status == 550 and failed.last_error == "550 5.1.1 Mailbox unknown"
    assert send_due(app, session, port, at=utcnow() + dt.timedelta(days=2)).claimed == 0
    assert [m["To"] for m in server.messages] == ["ada@example.com"]


def test_while_the_smtp_server_is_down_messages_stay_pending_with_the_reason_and_no_attempt_used(
    app, session
):
    add_customer(app, session, "ada@example.com")
    version = publish_version(session)
    session.commit()
    report = send_due(app, session, free_port())  # nothing listens there
    assert (report.deferred, report.retrying) == (1, 0)
    (row,) = _rows(session, version)
    assert row.status == "pending" and row.last_status is None
    assert row.attempts == 0 and row.locked_until is None
    assert row.last_error.startswith("cannot reach SMTP server 127.0.0.1:")


def test_a_customer_who_unsubscribed_after_the_campaign_started_is_not_sent(app, session, sink):
    from consent_service.messaging.campaigns import set_subscription

    server, port = sink
    ada = add_customer(app, session, "ada@example.com")
    version = publish_version(session)
    set_subscription(
        session, ada.id, "policy-notices", subscribed=False, source="one-click", now=utcnow()
    )
    session.commit()
    send_due(app, session, port)
    assert server.messages == []
    (row,) = _rows(session, version)
    assert row.status == "dead" and row.last_error == "unsubscribed from policy-notices"


def test_the_throttle_spaces_sends_evenly_at_the_configured_rate():
    now = [100.0]
    throttle = Throttle(4, clock=lambda: now[0])
    assert [throttle.delay() for _ in range(3)] == [0.0, 0.25, 0.5]
    now[0] += 0.5  # time passed while sleeping the first reserved slots
    assert throttle.delay() == 0.25
    now[0] += 10  # idle: no burst is saved up
    assert [throttle.delay() for _ in range(2)] == [0.0, 0.25]


def test_the_throttle_sleeps_what_it_computed_and_zero_means_unlimited():
    slept: list[float] = []
    throttle = Throttle(2, clock=lambda: 0.0, sleep=slept.append)
    for _ in range(3):
        throttle.wait()
    assert slept == [0.5, 1.0]
    assert Throttle(0).delay() == 0.0
