"""The dashboard's numbers: consent rates by day, look-ups per integration, one subject's
verified history."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from consent_service.errors import ValidationFailed
from consent_service.integrations.subject_refs import parse_subject_ref
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context
from consent_service.staff.dashboard import Window
from consent_service.staff.dashboard import consent_rates
from consent_service.staff.dashboard import lookups_per_integration
from consent_service.staff.dashboard import subject_history

TODAY = utcnow().date()


@pytest.fixture
def context(session):
    return consent_context(session, "demo-shop", now=utcnow())


def rate_of(series, purpose, jurisdiction=None):
    [found] = [s for s in series if s.purpose == purpose and s.jurisdiction == jurisdiction]
    return found


def test_todays_marketing_rate_counts_the_choices_that_granted_it(
    session, context, consent_via_widget
):
    before = rate_of(consent_rates(session, context, Window.ending(TODAY, 1)), "marketing")
    consent_via_widget(uuid.uuid4(), marketing=True)
    consent_via_widget(uuid.uuid4(), marketing=False)
    consent_via_widget(uuid.uuid4(), marketing=False)
    after = rate_of(consent_rates(session, context, Window.ending(TODAY, 1)), "marketing")
    assert (after.receipts - before.receipts, after.granted - before.granted) == (3, 1)


def test_rates_split_by_jurisdiction(session, context, consent_via_widget):
    consent_via_widget(uuid.uuid4(), region="DE", analytics=True)
    series = consent_rates(session, context, Window.ending(TODAY, 1), by_jurisdiction=True)
    germany = rate_of(series, "analytics", "DE")
    assert germany.receipts >= 1 and germany.granted >= 1


def test_essential_purposes_have_no_rate(session, context):
    purposes = {s.purpose for s in consent_rates(session, context, Window.ending(TODAY, 7))}
    assert "necessary" not in purposes
    assert "marketing" in purposes


def test_every_day_of_the_window_is_present_even_without_receipts(session, context):
    series = rate_of(consent_rates(session, context, Window.ending(TODAY, 30)), "analytics")
    assert [d.day for d in series.days] == Window.ending(TODAY, 30).days
    assert series.days[0].rate is None or 0 <= series.days[0].rate <= 1


def test_a_window_longer_than_a_year_is_refused():
    with pytest.raises(ValidationFailed):
        Window.ending(TODAY, 400)


def test_look_ups_are_counted_per_integration(client, session, api_key):
    headers = api_key("consent:read")
    for _ in range(3):
        client.get(
            "/v1/decisions",
            query_string={"subject": "customer:dash-1", "purpose": "marketing"},
            headers=headers,
        )
    public_id = headers["Authorization"].split("_", 2)[1]
    property_id = consent_context(session, "demo-shop", now=utcnow()).property_id
    usage = lookups_per_integration(session, property_id, Window.ending(TODAY, 1))
    [mine] = [u for u in usage if u.key_public_id == public_id]
    assert (mine.requests, mine.items, mine.allowed) == (3, 3, 0)


def test_a_customers_history_spans_their_browsers_and_every_receipt_verifies(
    app, client, session, context, api_key, consent_via_widget
):
    laptop, phone = uuid.uuid4(), uuid.uuid4()
    consent_via_widget(laptop, marketing=True)
    consent_via_widget(phone, marketing=False)
    linker = api_key("subjects:write")
    for visitor in (laptop, phone):
        client.post(
            "/v1/subjects/link",
            json={"visitor_id": str(visitor), "customer": "dash-2"},
            headers=linker,
        )
    history = subject_history(
        session, app.extensions["vault"], context, parse_subject_ref("customer:dash-2", "")
    )
    assert [line.decisions["marketing"] for line in history] == ["granted", "denied"]
    assert all(line.verified for line in history)


def test_a_tampered_receipt_shows_up_as_unverified(app, session, context, consent_via_widget):
    visitor = uuid.uuid4()
    receipt = consent_via_widget(visitor, marketing=True)
    # Simulate tampering below the application: the trigger forbids UPDATE, so drop it,
    # change the row, and put it back (all inside the test's rolled-back transaction).
    dialect = session.get_bind().dialect.name
    if dialect != "sqlite":
        pytest.skip("tampering is simulated on SQLite, where triggers can be dropped cheaply")
    connection = session.connection()
    connection.exec_driver_sql("DROP TRIGGER trg_consent_receipts_no_update")
    connection.execute(
        sa.text("UPDATE consent_receipts SET method = 'accept_all' WHERE id = :id"),
        {"id": uuid.UUID(receipt["receipt_id"]).hex},
    )
    history = subject_history(
        session, app.extensions["vault"], context, parse_subject_ref(f"visitor:{visitor}", "")
    )
    assert not history[-1].verified
    assert any("method" in problem for problem in history[-1].problems)


def test_the_window_covers_whole_utc_days():
    start, end = Window.ending(dt.date(2026, 11, 22), 2).bounds()
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-21T00:00:00+00:00",
        "2026-11-23T00:00:00+00:00",
    )
