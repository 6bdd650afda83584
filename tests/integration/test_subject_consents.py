"""Shop backends record consent on a customer's behalf (consent:write): a receipt like the
widget's, on the customer's account subject, that look-ups then answer from."""

from __future__ import annotations

import uuid

import pytest

from consent_service.integrations.identity import account_visitor_id


@pytest.fixture
def writer(api_key):
    return api_key("consent:write", "consent:read")


def record(client, headers, subject, region="FR", **decisions):
    body = {
        "subject": subject,
        "policy_version": 2,
        "method": "custom",
        "region": region,
        "decisions": {
            "preferences": False,
            "analytics": False,
            "marketing": False,
            "advertising": False,
            **decisions,
        },
    }
    return client.post("/v1/subjects/consents", json=body, headers=headers)


def ask(client, headers, subject, purpose="marketing"):
    return client.get(
        "/v1/decisions", query_string={"subject": subject, "purpose": purpose}, headers=headers
    ).json


def test_a_checkout_opt_in_becomes_a_signed_receipt_for_the_customer(client, writer):
    response = record(client, writer, "customer:c-100", marketing=True)
    assert response.status_code == 201
    payload = response.json["payload"]
    assert payload["source"].startswith("api:")
    assert payload["decisions"]["marketing"] == "granted"
    assert ask(client, writer, "customer:c-100")["reason"] == "granted"


def test_the_receipt_is_chained_under_the_customers_account_subject(client, writer):
    first = record(client, writer, "customer:c-101", marketing=True).json["payload"]
    second = record(client, writer, "customer:c-101", marketing=False).json["payload"]
    assert first["visitor_id"] == second["visitor_id"]
    assert second["seq"] == first["seq"] + 1
    assert uuid.UUID(first["visitor_id"]).version == 5


def test_a_backend_withdrawal_overrides_an_earlier_browser_grant(
    client, writer, api_key, consent_via_widget
):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, marketing=True)
    client.post(
        "/v1/subjects/link",
        json={"visitor_id": str(visitor), "customer": "c-102"},
        headers=api_key("subjects:write"),
    )
    record(client, writer, "customer:c-102", marketing=False)
    assert ask(client, writer, "customer:c-102")["reason"] == "denied"


def test_a_customer_named_by_email_gets_an_account_too(client, writer):
    response = record(client, writer, "email:new@example.com", marketing=True)
    assert response.status_code == 201
    answer = client.post(
        "/v1/decisions",
        json={"subjects": ["email:new@example.com"], "purposes": ["marketing"]},
        headers=writer,
    ).json["decisions"][0]
    assert answer["allowed"] is True


def test_the_account_visitor_id_is_derived_from_the_identity():
    identity = uuid.uuid4()
    assert account_visitor_id(identity) == account_visitor_id(identity)
    assert account_visitor_id(identity) != account_visitor_id(uuid.uuid4())


def test_recording_needs_the_consent_write_scope(client, api_key, receipt_count):
    before = receipt_count()
    response = record(client, api_key("consent:read"), "customer:c-103", marketing=True)
    assert response.status_code == 403
    assert receipt_count() == before


def test_an_unknown_region_is_422_and_records_nothing(client, writer, receipt_count):
    before = receipt_count()
    response = record(client, writer, "customer:c-104", region="XX", marketing=True)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/region"
    assert receipt_count() == before


def test_another_propertys_subject_id_is_403(client, writer):
    response = record(client, writer, f"subject:{uuid.uuid4()}", marketing=True)
    assert response.status_code == 403


def test_an_incomplete_custom_choice_is_422_and_links_nothing(client, writer, session):
    from flask import current_app

    from consent_service.models import Identity
    from consent_service.properties.lookup import get_property

    response = client.post(
        "/v1/subjects/consents",
        json={
            "subject": "customer:c-105",
            "policy_version": 2,
            "method": "custom",
            "decisions": {"marketing": True},
        },
        headers=writer,
    )
    assert response.status_code == 422
    index = current_app.extensions["vault"].customer_index(
        get_property(session, "demo-shop").id, "c-105"
    )
    assert session.query(Identity).filter_by(customer_ref_index=index).count() == 0
