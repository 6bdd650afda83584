"""Erasure's pass over the decision log reads it a batch at a time (keyset by id): every
entry naming the person is rewritten however many batches it takes, and no other."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from consent_service.decisions.access_log import ERASED_LABEL
from consent_service.decisions.access_log import pseudonymise_entries
from consent_service.models import DecisionLogEntry
from consent_service.properties.lookup import get_property

NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)


def _entry(property_id: int, label: str) -> DecisionLogEntry:
    return DecisionLogEntry(
        id=uuid.uuid4(),
        property_id=property_id,
        requested_at=NOW - dt.timedelta(days=1),
        purposes=["marketing"],
        item_count=2,
        allowed_count=1,
        answers=[
            [label, "marketing", True, "granted"],
            ["visitor:someone-else", "marketing", False, "denied"],
        ],
    )


def test_every_entry_naming_the_person_is_rewritten_across_many_batches(session):
    prop = get_property(session, "demo-shop")
    person = f"visitor:{uuid.uuid4()}"
    theirs = [_entry(prop.id, person) for _ in range(7)]
    others = [_entry(prop.id, f"visitor:{uuid.uuid4()}") for _ in range(5)]
    session.add_all(theirs + others)
    session.flush()

    rewritten = pseudonymise_entries(
        session, property_id=prop.id, labels=[person], now=NOW, batch_size=2
    )

    assert rewritten == 7
    rows = session.execute(
        sa.select(DecisionLogEntry.id, DecisionLogEntry.answers, DecisionLogEntry.item_count).where(
            DecisionLogEntry.id.in_([e.id for e in theirs + others])
        )
    ).all()
    by_id = {row.id: row for row in rows}
    for entry in theirs:
        answers = by_id[entry.id].answers
        assert [a[0] for a in answers] == [ERASED_LABEL, "visitor:someone-else"]
        assert by_id[entry.id].item_count == 2
    for entry in others:
        assert by_id[entry.id].answers[0][0] != ERASED_LABEL
