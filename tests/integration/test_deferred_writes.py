"""Writes left to a background thread (``infra/deferred_writes.py``) on a real SQLite file:
nothing is lost while the database refuses them, their order holds, a full buffer refuses
more (so nothing is answered that could not be recorded), and a full batch is written
without waiting for the interval."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import DatabaseUnavailable
from consent_service.infra.database import TimeLimits
from consent_service.infra.database import configure_engine
from consent_service.infra.deferred_writes import DeferredWrites

HOUR = 3600.0
TABLE = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer, nullable=False))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'deferred.db'}")
    # A lock not granted within 0.1 s fails the write instead of waiting 30 s.
    configure_engine(engine, TimeLimits(connect=1, statement=0.1))
    TABLE.metadata.create_all(engine)
    yield engine
    engine.dispose()


def written(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.text("SELECT n FROM t ORDER BY rowid")))


def writes(engine: sa.Engine, **options: object) -> DeferredWrites:
    settings: dict[str, object] = {"flush_seconds": HOUR, "wait_seconds": 0, **options}
    return DeferredWrites(engine, sa.insert(TABLE), **settings)  # type: ignore[arg-type]


def test_rows_the_database_refuses_are_kept_in_order_and_written_later(engine, tmp_path):
    deferred = writes(engine)
    for n in (1, 2, 3):
        deferred.add({"n": n})
    holder = sqlite3.connect(tmp_path / "deferred.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        deferred.flush()
    holder.rollback()
    holder.close()
    assert deferred.pending == 3
    deferred.add({"n": 4})
    assert deferred.flush() == 4
    assert written(engine) == [1, 2, 3, 4]
    deferred.close()


def test_a_full_buffer_refuses_more_until_it_is_written(engine):
    deferred = writes(engine, max_weight=10)
    deferred.add({"n": 1}, weight=10)
    with pytest.raises(DatabaseUnavailable):
        deferred.add({"n": 2})
    deferred.flush()
    deferred.add({"n": 3})
    deferred.close()
    assert written(engine) == [1, 3]


def test_a_full_batch_is_written_by_the_thread_before_the_interval(engine):
    deferred = writes(engine, batch_rows=5)
    for n in range(5):
        deferred.add({"n": n})
    deadline = time.monotonic() + 30  # the interval is an hour: only the batch wakes it
    while deferred.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert written(engine) == [0, 1, 2, 3, 4]
    deferred.close()


def test_rows_added_after_closing_are_written_at_once(engine):
    deferred = writes(engine)
    deferred.add({"n": 1})
    deferred.close()
    assert written(engine) == [1]
    deferred.add({"n": 2})
    assert written(engine) == [1, 2]


def test_with_no_interval_a_row_is_written_in_the_callers_transaction(engine):
    deferred = writes(engine, flush_seconds=0)
    with Session(engine) as session:
        deferred.write(session, {"n": 1})
        session.rollback()  # the caller's transaction, so its rollback takes the row too
        deferred.write(session, {"n": 2})
        session.commit()
    assert deferred.pending == 0
    assert written(engine) == [2]
