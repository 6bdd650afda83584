"""Seeing and changing choices on the preferences page, and the email lists."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from consent_service.decisions.lookups import look_up
from consent_service.integrations.identity import customer_ref_of
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.messaging.campaigns import subscriptions
from consent_service.models import ConsentReceipt
from consent_service.models import OutboxMessage
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context
from consent_service.properties.lookup import get_property
from tests.integration.preferences_support import csrf_of
from tests.integration.preferences_support import customer_via_notice_link
from tests.integration.preferences_support import listening
from tests.integration.preferences_support import sign_in_visitor


def signed_in_visitor(app, client, session, record, **granted: bool) -> uuid.UUID:
    visitor = uuid.uuid4()
    record(visitor, "custom", **granted) if granted else record(visitor, "accept_all")
    session.commit()
    sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    return visitor


def latest_receipt(session, visitor: uuid.UUID) -> ConsentReceipt:
    return session.scalars(
        sa.select(ConsentReceipt)
        .join(Subject, Subject.id == ConsentReceipt.subject_id)
        .where(Subject.visitor_id == visitor)
        .order_by(ConsentReceipt.seq.desc())
    ).first()


def post_choices(client, *purposes: str, action: str = "save", **extra: str):
    data = {"csrf_token": csrf_of(client), "action": action, "purpose": list(purposes), **extra}
    return client.post("/preferences/choices", data=data)


def test_each_purpose_shows_its_explanation_legal_basis_vendors_and_state(
    app, client, session, record
):
    signed_in_visitor(app, client, session, record, analytics=True)
    page = client.get("/preferences/").get_data(as_text=True)
    assert "Legal basis: your consent." in page
    assert "Who does it" in page
    assert page.count('role="switch"') == 4  # every purpose but the essential one
    assert "Allowed since" in page  # analytics
    assert "Refused on" in page  # marketing, refused by the same receipt


def test_saving_choices_records_a_receipt_from_the_page(app, client, session, record):
    visitor = signed_in_visitor(app, client, session, record)
    response = post_choices(client, "analytics")
    assert response.status_code == 303
    receipt = latest_receipt(session, visitor)
    assert (receipt.method, receipt.source) == ("custom", "preferences-page")
    assert receipt.decisions["analytics"] == "granted"
    assert receipt.decisions["marketing"] == "denied"
    assert "Your choices are saved" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_withdrawing_all_consent_is_one_step(app, client, session, record):
    visitor = signed_in_visitor(app, client, session, record)
    post_choices(client, "analytics", action="withdraw_all")  # a ticked box does not count
    receipt = latest_receipt(session, visitor)
    assert receipt.method == "withdrawal"
    assert {k for k, v in receipt.decisions.items() if v == "granted"} == {"necessary"}


def test_a_change_fires_the_consent_changed_webhook(app, client, session, record):
    listening(app, session, "consent.changed")
    visitor = signed_in_visitor(app, client, session, record)
    post_choices(client, action="withdraw_all")
    bodies = [
        json.loads(m.payload)
        for m in session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.event_type == "consent.changed")
        )
    ]
    mine = [b for b in bodies if b["data"]["visitor_id"] == str(visitor)]
    assert mine[-1]["data"]["method"] == "withdrawal"


def test_purposes_the_property_does_not_offer_are_ignored(app, client, session, record):
    visitor = signed_in_visitor(app, client, session, record)
    assert post_choices(client, "analytics", "mind-reading").status_code == 303
    assert "mind-reading" not in latest_receipt(session, visitor).decisions


def test_a_change_without_the_form_token_changes_nothing(app, client, session, record):
    visitor = signed_in_visitor(app, client, session, record)
    before = latest_receipt(session, visitor).id
    response = client.post("/preferences/choices", data={"action": "withdraw_all"})
    assert response.status_code == 400
    assert latest_receipt(session, visitor).id == before


def test_a_change_without_a_session_asks_to_sign_in(app, client, session):
    response = client.post("/preferences/choices", data={"action": "withdraw_all"})
    assert response.status_code == 401
    assert "Sign in" in response.get_data(as_text=True)


def test_a_customers_change_governs_every_browser_linked_to_them(app, client, session):
    identity = customer_via_notice_link(app, client, session)
    post_choices(client, "analytics")
    context = consent_context(session, "demo-shop", now=utcnow())
    [analytics] = [p for p in context.purposes if p.key == "analytics"]
    [answer] = look_up(
        session,
        context,
        [SubjectRef("customer", customer_ref_of(app.extensions["vault"], identity))],
        [analytics],
        vault=app.extensions["vault"],
        now=utcnow(),
    )
    assert answer.decision.allowed


def test_gpc_switches_off_sale_and_sharing_purposes_where_the_law_honours_it(
    app, client, session, record
):
    signed_in_visitor(app, client, session, record)
    page = client.get("/preferences/?region=US-CA", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "Global Privacy Control signal" in page
    assert "disabled" in page


def test_a_granted_sale_purpose_shows_as_off_while_the_browser_sends_gpc(
    app, client, session, record
):
    signed_in_visitor(app, client, session, record)  # accepted everything, no region: strictest
    page = client.get("/preferences/", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    marketing = page.split('value="marketing"')[1].split(">")[0]
    analytics = page.split('value="analytics"')[1].split(">")[0]
    assert "checked" not in marketing
    assert "checked" in analytics


def test_a_customer_sees_both_email_lists_with_their_defaults(app, client, session):
    customer_via_notice_link(app, client, session)
    page = client.get("/preferences/").get_data(as_text=True)
    assert 'id="list-policy-notices" name="list" value="policy-notices" checked' in page
    assert 'id="list-newsletters" name="list" value="newsletters" >' in page


def test_a_customer_can_join_the_newsletter_and_leave_policy_notices(app, client, session):
    identity = customer_via_notice_link(app, client, session)
    response = client.post(
        "/preferences/emails", data={"csrf_token": csrf_of(client), "list": ["newsletters"]}
    )
    assert response.status_code == 303
    assert subscriptions(session, identity.id) == {"policy-notices": False, "newsletters": True}


def test_an_anonymous_visitor_has_no_email_lists(app, client, session, record):
    signed_in_visitor(app, client, session, record)
    assert "Emails from us" not in client.get("/preferences/").get_data(as_text=True)
    response = client.post("/preferences/emails", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 403


def test_someone_elses_visitor_id_in_the_form_changes_only_ones_own_choices(
    app, client, session, record
):
    """The session says whose choices these are; nothing in the form can name another."""
    other = uuid.uuid4()
    record(other, "accept_all")
    visitor = signed_in_visitor(app, client, session, record)
    before = latest_receipt(session, other).id
    post_choices(client, action="withdraw_all", visitor_id=str(other), subject=str(other))
    assert latest_receipt(session, other).id == before
    assert latest_receipt(session, visitor).method == "withdrawal"
