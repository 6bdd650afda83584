"""Receipts as proof, the data export, and erasure, from the preferences page."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consent_service.infra.signing import b64url_decode
from consent_service.integrations.identity import customer_ref_of
from consent_service.models import AuditEntry
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import ErasureRequest
from consent_service.models import Identity
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from consent_service.self_service.erasure import deadline_for
from tests.integration.preferences_support import csrf_of
from tests.integration.preferences_support import customer_via_notice_link
from tests.integration.preferences_support import erase_now
from tests.integration.preferences_support import listening
from tests.integration.preferences_support import new_customer
from tests.integration.preferences_support import sign_in_by_magic_link
from tests.integration.preferences_support import sign_in_customer
from tests.integration.preferences_support import sign_in_visitor
from tests.integration.test_notifications_sink import add_customer


def verifies(client, jws: str) -> bool:
    keys = {k["kid"]: k["x"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    header, payload, signature = jws.split(".")
    kid = json.loads(b64url_decode(header))["kid"]
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(keys[kid]))
    key.verify(b64url_decode(signature), f"{header}.{payload}".encode())
    return True


def visitor_with_receipt(app, client, session, record) -> tuple[uuid.UUID, uuid.UUID]:
    visitor = uuid.uuid4()
    receipt = record(visitor, "accept_all")
    session.commit()
    sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    return visitor, receipt.receipt_id


def customer_with_browser(app, client, session, record) -> tuple[Identity, uuid.UUID]:
    email = f"c-{uuid.uuid4().hex[:8]}@example.com"
    identity = add_customer(app, session, email)
    visitor = uuid.uuid4()
    record(visitor, "accept_all")
    session.execute(
        sa.update(Subject).where(Subject.visitor_id == visitor).values(identity_id=identity.id)
    )
    session.commit()
    sign_in_by_magic_link(app, client, session, email)
    return identity, visitor


def test_the_history_lists_each_receipt_with_a_link_to_its_policy_version(
    app, client, session, record
):
    _, receipt_id = visitor_with_receipt(app, client, session, record)
    page = client.get("/preferences/").get_data(as_text=True)
    assert f'data-receipt="{receipt_id}"' in page
    assert 'href="http://consent.test/policies/demo-shop/privacy-policy/2"' in page
    assert "✓ verified" in page


def test_a_downloaded_receipt_verifies_against_the_published_keys(app, client, session, record):
    _, receipt_id = visitor_with_receipt(app, client, session, record)
    response = client.get(f"/preferences/receipts/{receipt_id}.jws")
    assert response.headers["Content-Type"] == "application/jose"
    assert "attachment" in response.headers["Content-Disposition"]
    assert verifies(client, response.get_data(as_text=True))


def test_the_json_download_carries_the_jws_its_payload_and_how_to_verify(
    app, client, session, record
):
    _, receipt_id = visitor_with_receipt(app, client, session, record)
    bundle = client.get(f"/preferences/receipts/{receipt_id}.json").get_json()
    [entry] = bundle["receipts"]
    assert entry["payload"]["receipt_id"] == str(receipt_id)
    assert bundle["jwks_url"].endswith("/.well-known/jwks.json")
    assert "Ed25519" in bundle["how_to_verify"]
    assert verifies(client, entry["jws"])


def test_all_receipts_download_in_one_file(app, client, session, record):
    visitor, _ = visitor_with_receipt(app, client, session, record)
    record(visitor, "reject_all")
    session.commit()
    bundle = client.get("/preferences/receipts.json").get_json()
    assert [r["payload"]["seq"] for r in bundle["receipts"]] == [1, 2]


def test_someone_elses_receipt_is_not_found(app, client, session, record):
    other = record(uuid.uuid4(), "accept_all")
    visitor_with_receipt(app, client, session, record)
    response = client.get(f"/preferences/receipts/{other.receipt_id}.jws")
    assert response.status_code == 404
    assert "eyJ" not in response.get_data(as_text=True)


def test_downloads_need_a_session(client):
    assert client.get("/preferences/receipts.json").status_code == 401


def test_the_export_holds_the_customer_record_browsers_choices_and_receipts(
    app, client, session, record
):
    _identity, visitor = customer_with_browser(app, client, session, record)
    data = client.get("/preferences/export.json").get_json()
    assert data["customer"]["email"].startswith("c-")
    assert [b["visitor_id"] for b in data["browsers"]] == [str(visitor)]
    assert {c["purpose"] for c in data["current_choices"]} >= {"analytics", "marketing"}
    assert len(data["receipts"]) == 1
    assert data["email_lists"] == []


def test_erasure_wipes_the_pii_and_keeps_the_receipts(app, client, session, record):
    identity, _visitor = customer_with_browser(app, client, session, record)
    receipts_before = session.scalar(sa.select(sa.func.count()).select_from(ConsentReceipt))
    response = client.post(
        "/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"}
    )
    assert response.status_code == 200
    assert "Your data is erased" in response.get_data(as_text=True)
    session.expire_all()
    erased = session.get(Identity, identity.id)
    assert (erased.email_ciphertext, erased.email_index, erased.customer_ref) == (None, None, None)
    assert (erased.customer_ref_ciphertext, erased.customer_ref_index) == (None, None)
    assert erased.erased_at is not None
    # the old receipt stays; one withdrawal receipt is added on the browser that granted
    receipts_after = session.scalar(sa.select(sa.func.count()).select_from(ConsentReceipt))
    assert receipts_after == receipts_before + 1


def test_after_erasure_nothing_of_the_person_is_granted_any_more(app, client, session, record):
    _identity, visitor = customer_with_browser(app, client, session, record)
    client.post("/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"})
    granted = session.scalar(
        sa.select(sa.func.count())
        .select_from(ConsentState)
        .join(Subject, Subject.id == ConsentState.subject_id)
        .where(Subject.visitor_id == visitor, ConsentState.granted.is_(True))
    )
    assert granted == 1  # the essential purpose only


def test_erasure_tells_the_shop_with_its_customer_reference(app, client, session, record):
    listening(app, session, "subject.erased")
    identity, visitor = customer_with_browser(app, client, session, record)
    reference = customer_ref_of(app.extensions["vault"], identity)
    assert reference is not None
    client.post("/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"})
    [message] = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.event_type == "subject.erased")
    )
    data = json.loads(message.payload)["data"]
    assert data["customer_ref"] == reference
    assert data["visitor_ids"] == [str(visitor)]


def test_erasure_is_logged_when_asked_for_and_when_done(app, client, session, record):
    identity, _ = customer_with_browser(app, client, session, record)
    client.post("/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"})
    actions = session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.target_id == str(identity.id))
    ).all()
    assert sorted(actions) == ["subject.erased", "subject.erasure_requested"]
    request = session.scalar(
        sa.select(ErasureRequest).where(ErasureRequest.identity_id == identity.id)
    )
    assert request.completed_at is not None


def test_erasure_ends_the_session_and_the_links(app, client, session, record):
    identity, _ = customer_with_browser(app, client, session, record)
    client.post("/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"})
    assert "Sign in with your email" in client.get("/preferences/").get_data(as_text=True)
    response = sign_in_customer(app, client, identity.id)
    assert response.status_code == 410
    assert "erased" in response.get_data(as_text=True)


def test_erasure_needs_the_confirmation_box(app, client, session, record):
    identity, _ = customer_with_browser(app, client, session, record)
    response = client.post("/preferences/erase", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 422
    assert "Tick the box" in response.get_data(as_text=True)
    assert session.get(Identity, identity.id).erased_at is None


def test_asking_twice_finds_the_first_request(app, session, record):
    identity = new_customer(app, session)
    access = Access(
        get_property(session, "demo-shop").id, None, identity.id, Via.MAGIC_LINK, utcnow()
    )
    first = erase_now(app, session, access)
    second = erase_now(app, session, access)
    assert (first.done_now, second.done_now) == (True, False)
    assert second.request.id == first.request.id


def test_the_deadline_follows_the_law_where_consent_was_given():
    requested = dt.datetime(2027, 1, 31, 12, tzinfo=dt.UTC)
    assert deadline_for("US-CA").due(requested) == requested + dt.timedelta(days=45)
    assert deadline_for("FR").due(requested) == dt.datetime(2027, 2, 28, 12, tzinfo=dt.UTC)
    assert deadline_for("BR").due(requested) == requested + dt.timedelta(days=15)
    assert deadline_for("unknown").due(requested) <= requested + dt.timedelta(days=15)


def test_a_policy_notice_link_cannot_export_or_erase_without_a_fresh_link(app, client, session):
    identity = customer_via_notice_link(app, client, session)
    page = client.get("/preferences/").get_data(as_text=True)
    assert "confirm it is you with a fresh sign-in link" in page
    assert client.get("/preferences/export.json").status_code == 403
    erase_attempt = client.post(
        "/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"}
    )
    assert erase_attempt.status_code == 403
    assert session.get(Identity, identity.id).erased_at is None


def test_a_notice_link_session_can_ask_for_a_fresh_link_to_its_own_address(app, client, session):
    identity = customer_via_notice_link(app, client, session)
    response = client.post("/preferences/confirm-by-email", data={"csrf_token": csrf_of(client)})
    assert "A sign-in link is on its way" in response.get_data(as_text=True)
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(MagicLink)
            .where(MagicLink.identity_id == identity.id)
        )
        == 1
    )


def test_an_anonymous_visitor_can_erase_this_browsers_record(app, client, session, record):
    visitor, _ = visitor_with_receipt(app, client, session, record)
    response = client.post(
        "/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"}
    )
    assert response.status_code == 200
    subject = session.scalar(sa.select(Subject).where(Subject.visitor_id == visitor))
    assert subject.erased_at is not None
    again = sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    assert again.status_code == 410


def test_an_erasure_posted_again_from_another_tab_changes_nothing(app, client, session, record):
    identity, _ = customer_with_browser(app, client, session, record)
    cookie = client.get_cookie("consent_preferences", path="/preferences").value
    token = csrf_of(client)
    client.post("/preferences/erase", data={"csrf_token": token, "confirm": "yes"})
    other_tab = app.test_client()
    other_tab.set_cookie("consent_preferences", cookie, path="/preferences")
    again = other_tab.post("/preferences/erase", data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 401
    assert "Your session has ended" in again.get_data(as_text=True)
    requests = sa.select(sa.func.count()).where(ErasureRequest.identity_id == identity.id)
    assert session.scalar(requests) == 1
    audited = sa.select(sa.func.count()).where(AuditEntry.target_id == str(identity.id))
    assert session.scalar(audited) == 2
