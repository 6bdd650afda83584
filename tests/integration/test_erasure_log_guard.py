"""The decision log's guard: still append-only, but for one update, the pseudonymisation an
erasure makes (it sets ``pseudonymised_at`` and changes nothing but ``answers``)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from consent_service.models import DecisionLogEntry
from consent_service.models.base import table_of
from consent_service.properties.lookup import get_property

LOG = table_of(DecisionLogEntry)
AT = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def entry(session) -> uuid.UUID:
    entry_id = uuid.uuid4()
    session.execute(
        sa.insert(LOG).values(
            id=entry_id,
            property_id=get_property(session, "demo-shop").id,
            requested_at=AT,
            purposes=["marketing"],
            item_count=1,
            allowed_count=0,
            answers=[["customer:c-1", "marketing", False, "no_record"]],
        )
    )
    return entry_id


def rewrite(session, entry_id: uuid.UUID, **values: object) -> None:
    with session.begin_nested():
        session.execute(sa.update(LOG).where(LOG.c.id == entry_id).values(**values))


ERASED = [["erased", "marketing", False, "no_record"]]


def test_pseudonymising_the_answers_is_allowed(session, entry):
    rewrite(session, entry, answers=ERASED, pseudonymised_at=AT)
    assert session.scalar(sa.select(LOG.c.answers).where(LOG.c.id == entry)) == ERASED


def test_rewriting_the_answers_without_saying_so_is_refused(session, entry):
    with pytest.raises(DBAPIError, match="append-only"):
        rewrite(session, entry, answers=ERASED)


@pytest.mark.parametrize(
    "change",
    [
        {"item_count": 2},
        {"allowed_count": 1},
        {"purposes": ["analytics"]},
        {"requested_at": AT + dt.timedelta(days=1)},
        {"request_id": "other"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_pseudonymisation_that_changes_anything_else_is_refused(session, entry, change):
    with pytest.raises(DBAPIError, match="append-only"):
        rewrite(session, entry, answers=ERASED, pseudonymised_at=AT, **change)


def test_a_pseudonymised_entry_cannot_be_unmarked(session, entry):
    rewrite(session, entry, answers=ERASED, pseudonymised_at=AT)
    with pytest.raises(DBAPIError, match="append-only"):
        rewrite(session, entry, pseudonymised_at=None)
