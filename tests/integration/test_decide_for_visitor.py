"""Decisions read from the state projection, and fail closed."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from consent_service.decisions.for_visitor import decide_for_visitor
from consent_service.decisions.rule import Reason
from consent_service.models import PolicyVersion


def test_a_visitor_never_asked_is_denied_in_the_strictest_regime(session):
    decision = decide_for_visitor(session, "demo-shop", uuid.uuid4(), "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.NO_RECORD)


def test_a_granted_purpose_is_allowed_and_names_its_receipt(session, record):
    visitor = uuid.uuid4()
    receipt = record(visitor, analytics=True)
    decision = decide_for_visitor(session, "demo-shop", visitor, "analytics")
    assert (decision.allowed, decision.reason) == (True, Reason.GRANTED)
    assert decision.receipt_id == str(receipt.receipt_id)
    assert decision.policy_version == 2


def test_a_withdrawal_wins_over_an_earlier_grant(session, record):
    visitor = uuid.uuid4()
    record(visitor, "accept_all")
    record(visitor, "withdrawal")
    decision = decide_for_visitor(session, "demo-shop", visitor, "marketing")
    assert (decision.allowed, decision.reason) == (False, Reason.DENIED)


def test_essential_purposes_are_allowed_without_a_record(session):
    decision = decide_for_visitor(session, "demo-shop", uuid.uuid4(), "necessary")
    assert (decision.allowed, decision.reason) == (True, Reason.ESSENTIAL)


def test_consent_expires(session, record):
    visitor = uuid.uuid4()
    record(visitor, analytics=True, now=dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
    later = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    decision = decide_for_visitor(session, "demo-shop", visitor, "analytics", now=later)
    assert (decision.allowed, decision.reason) == (False, Reason.EXPIRED)


def test_a_new_material_version_makes_earlier_consent_stale(session, record):
    from consent_service.documents.versions import create_draft
    from consent_service.documents.versions import get_document
    from consent_service.documents.versions import publish

    visitor = uuid.uuid4()
    record(visitor, analytics=True)
    document = get_document(session, "demo-shop", "privacy-policy")
    publish(session, create_draft(session, document, "# v3\n", material=True))
    decision = decide_for_visitor(session, "demo-shop", visitor, "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.STALE_POLICY)


def test_an_unknown_property_fails_closed_with_the_error(session):
    decision = decide_for_visitor(session, "no-such-shop", uuid.uuid4(), "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "no-such-shop" in decision.error


def test_an_unknown_purpose_fails_closed_with_the_error(session):
    decision = decide_for_visitor(session, "demo-shop", uuid.uuid4(), "telepathy")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "telepathy" in decision.error


def test_a_database_error_fails_closed(session, record):
    visitor = uuid.uuid4()
    record(visitor, "accept_all")
    savepoint = session.begin_nested()
    try:
        session.execute(sa.text("ALTER TABLE consent_states RENAME TO consent_states_gone"))
        decision = decide_for_visitor(session, "demo-shop", visitor, "analytics")
    finally:
        savepoint.rollback()
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "internal error" in decision.error
    assert session.scalar(sa.select(sa.func.count()).select_from(PolicyVersion)) >= 2


def test_in_an_opt_out_state_a_withdrawal_is_an_opt_out(client, session):
    from tests.support import demo_consent

    visitor = uuid.uuid4()
    body = demo_consent(visitor) | {"method": "withdrawal", "decisions": {}}
    assert client.post("/v1/consents?region=US-CA", json=body).status_code == 201
    decision = decide_for_visitor(session, "demo-shop", visitor, "analytics")
    assert (decision.allowed, decision.reason, decision.jurisdiction) == (
        False,
        Reason.OPTED_OUT,
        "US-CA",
    )


def test_in_an_opt_out_state_gpc_on_record_denies_advertising(client, session):
    from tests.support import demo_consent

    visitor = uuid.uuid4()
    body = demo_consent(visitor, advertising=True)
    client.post("/v1/consents?region=US-CA", json=body, headers={"Sec-GPC": "1"})
    decision = decide_for_visitor(session, "demo-shop", visitor, "advertising")
    assert (decision.allowed, decision.reason) == (False, Reason.GPC)
