"""Consent look-ups for shop backends: ``GET /v1/decisions`` (one) and ``POST`` (bulk)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.models import DecisionLogEntry
from tests.support import statements_sent


def ask(client, headers, subject: str, purpose: str = "marketing"):
    return client.get(
        "/v1/decisions", query_string={"subject": subject, "purpose": purpose}, headers=headers
    )


def link(client, headers, **body):
    response = client.post("/v1/subjects/link", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def reader(api_key):
    return api_key("consent:read", "subjects:write")


def test_a_visitor_who_granted_marketing_may_be_processed_for_it(
    client, reader, consent_via_widget
):
    visitor = uuid.uuid4()
    receipt = consent_via_widget(visitor, marketing=True)
    answer = ask(client, reader, f"visitor:{visitor}").json
    assert answer["allowed"] is True
    assert answer["reason"] == "granted"
    assert answer["receipt_id"] == receipt["receipt_id"]
    assert answer["policy_version"] == 2
    assert answer["jurisdiction"] == "FR"
    assert answer["expires_at"] == receipt["payload"]["expires_at"]


def test_a_visitor_who_refused_marketing_is_denied(client, reader, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, marketing=False)
    answer = ask(client, reader, f"visitor:{visitor}").json
    assert (answer["allowed"], answer["reason"]) == (False, "denied")


def test_a_customer_never_seen_is_denied_for_lack_of_a_record(client, reader):
    answer = ask(client, reader, "customer:nobody-yet").json
    assert (answer["allowed"], answer["reason"]) == (False, "no_record")
    assert answer["receipt_id"] is None


def test_a_necessary_purpose_is_allowed_without_any_record(client, reader):
    answer = ask(client, reader, "customer:nobody-yet", purpose="necessary").json
    assert (answer["allowed"], answer["reason"]) == (True, "essential")


def test_a_californian_without_a_record_is_allowed_by_the_opt_out_default(
    client, reader, consent_via_widget
):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, region="US-CA", analytics=True, marketing=True)
    answer = ask(client, reader, f"visitor:{visitor}", purpose="marketing").json
    assert answer["allowed"] is True


def test_a_linked_customer_is_answered_from_their_browser_choice(
    client, reader, consent_via_widget
):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, marketing=True)
    link(client, reader, visitor_id=str(visitor), customer="c-42")
    assert ask(client, reader, "customer:c-42").json["reason"] == "granted"


def test_a_customers_most_recent_choice_on_any_browser_wins(client, reader, consent_via_widget):
    laptop, phone = uuid.uuid4(), uuid.uuid4()
    consent_via_widget(laptop, marketing=True)
    consent_via_widget(phone, marketing=False)
    link(client, reader, visitor_id=str(laptop), customer="c-7")
    link(client, reader, visitor_id=str(phone), customer="c-7")
    assert ask(client, reader, "customer:c-7").json["reason"] == "denied"


def test_a_subject_id_from_a_receipt_can_be_asked_about(client, reader, consent_via_widget):
    receipt = consent_via_widget(uuid.uuid4(), marketing=True)
    subject = receipt["payload"]["subject"]
    assert ask(client, reader, f"subject:{subject}").json["allowed"] is True


def test_an_unknown_subject_id_is_403_like_another_propertys(client, reader):
    response = ask(client, reader, f"subject:{uuid.uuid4()}")
    assert response.status_code == 403
    assert response.json["type"].endswith("/problems/subject-not-accessible")


def test_another_propertys_subject_is_403_and_indistinguishable_from_none(
    client, session, api_key, consent_via_widget
):
    from consent_service.models import Property
    from consent_service.models import Purpose

    other = Property(key="other-shop", name="Other", allowed_origins=[], locales=["en"])
    other.purposes.append(Purpose(key="marketing"))
    session.add(other)
    session.commit()
    other_reader = api_key("consent:read", property_key="other-shop")
    receipt = consent_via_widget(uuid.uuid4(), marketing=True)
    theirs = ask(client, other_reader, f"subject:{receipt['payload']['subject']}")
    nobodys = ask(client, other_reader, f"subject:{uuid.uuid4()}")
    assert theirs.status_code == nobodys.status_code == 403
    assert theirs.json["detail"] == nobodys.json["detail"]


def test_an_email_in_the_query_string_is_refused(client, reader):
    response = ask(client, reader, "email:someone@example.com")
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/subject"


@pytest.mark.parametrize(
    ("subject", "pointer"),
    [("visitor:not-a-uuid", "/subject"), ("phone:123", "/subject"), ("customer:", "/subject")],
)
def test_a_malformed_subject_is_422_with_a_pointer(client, reader, subject, pointer):
    response = ask(client, reader, subject)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == pointer


def test_an_unknown_purpose_is_422(client, reader):
    response = ask(client, reader, "customer:c-1", purpose="telepathy")
    assert response.status_code == 422
    assert response.json["type"].endswith("/problems/unknown-purpose")


def test_a_missing_purpose_is_422_with_a_pointer(client, reader):
    response = client.get("/v1/decisions", query_string={"subject": "customer:c-1"}, headers=reader)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/purpose"


def test_bulk_answers_every_subject_and_purpose_in_order(client, reader, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, marketing=True, analytics=False)
    response = client.post(
        "/v1/decisions",
        json={
            "subjects": [f"visitor:{visitor}", "customer:unknown"],
            "purposes": ["marketing", "analytics"],
        },
        headers=reader,
    )
    assert response.status_code == 200
    got = [(d["subject"], d["purpose"], d["reason"]) for d in response.json["decisions"]]
    assert got == [
        (f"visitor:{visitor}", "marketing", "granted"),
        (f"visitor:{visitor}", "analytics", "denied"),
        ("customer:unknown", "marketing", "no_record"),
        ("customer:unknown", "analytics", "no_record"),
    ]


def test_bulk_finds_customers_by_email(client, reader, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, marketing=True)
    link(client, reader, visitor_id=str(visitor), email="Ada@Example.com")
    response = client.post(
        "/v1/decisions",
        json={"subjects": ["email:ada@example.com"], "purposes": ["marketing"]},
        headers=reader,
    )
    assert response.json["decisions"][0]["allowed"] is True


def test_bulk_over_ten_thousand_items_is_422(client, reader):
    subjects = [f"customer:c{i}" for i in range(5001)]
    response = client.post(
        "/v1/decisions",
        json={"subjects": subjects, "purposes": ["marketing", "analytics"]},
        headers=reader,
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/subjects"


def test_bulk_points_at_each_malformed_subject(client, reader):
    response = client.post(
        "/v1/decisions",
        json={"subjects": ["customer:ok", "visitor:nope", "x"], "purposes": ["marketing"]},
        headers=reader,
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/subjects/1", "/subjects/2"]


def test_ten_thousand_subjects_take_a_constant_number_of_queries(client, reader, app):
    subjects = [f"customer:c{i}" for i in range(5000)] + [
        f"visitor:{uuid.uuid4()}" for _ in range(5000)
    ]
    with statements_sent(db.engine) as statements:
        response = client.post(
            "/v1/decisions", json={"subjects": subjects, "purposes": ["marketing"]}, headers=reader
        )
    assert response.status_code == 200
    assert len(response.json["decisions"]) == 10_000
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # property context, customers, visitors (+ key check), and customers not found by blind
    # index once more by the plain reference rows written before person keys may still hold
    assert len(selects) <= 5, selects


def test_every_look_up_is_logged_with_who_asked_and_what_was_answered(client, session, reader):
    before = session.scalar(sa.select(sa.func.count()).select_from(DecisionLogEntry))
    ask(client, reader, "customer:c-log")
    entry = session.scalars(
        sa.select(DecisionLogEntry).order_by(DecisionLogEntry.requested_at.desc()).limit(1)
    ).one()
    assert session.scalar(sa.select(sa.func.count()).select_from(DecisionLogEntry)) == before + 1
    assert entry.api_key_id is not None
    assert entry.purposes == ["marketing"]
    # Customers, like emails, only by blind index: the log never holds the reference.
    [[label, *answer]] = entry.answers
    assert label.startswith("customer#") and len(label) == len("customer#") + 16
    assert answer == ["marketing", False, "no_record"]
    assert "c-log" not in str(entry.answers)


def test_the_log_names_email_subjects_only_by_their_blind_index(client, session, reader):
    client.post(
        "/v1/decisions",
        json={"subjects": ["email:private@example.com"], "purposes": ["marketing"]},
        headers=reader,
    )
    entry = session.scalars(
        sa.select(DecisionLogEntry).order_by(DecisionLogEntry.requested_at.desc()).limit(1)
    ).one()
    assert "private@example.com" not in str(entry.answers)
    assert entry.answers[0][0].startswith("email#")


def test_the_log_refuses_to_be_rewritten(client, session, reader):
    ask(client, reader, "customer:c-immutable")
    with pytest.raises(sa.exc.DBAPIError), session.begin_nested():
        session.execute(sa.update(DecisionLogEntry).values(allowed_count=99))
