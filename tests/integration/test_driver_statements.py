"""Statements run on the driver (``infra.driver_statements``) do what Core does: reads on a
pooled connection they hand back, or inside the session's transaction when it has one;
writes inside it, errors raised as Core raises them; on both databases."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.infra.driver_statements import DriverStatement
from consent_service.infra.driver_statements import in_list
from tests.support import own_database_url

metadata = sa.MetaData()
things = sa.Table(
    "driver_statement_things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.Uuid),
    sa.Column("name", sa.String(20)),
    sa.Column("flag", sa.Boolean),
    sa.Column("at", sa.DateTime),
)
WHEN = dt.datetime(2026, 12, 7, 1, 2, 3, 456000)
KEYS = [uuid.UUID(int=i + 1) for i in range(10_000)]


def _by_keys(dialect: str) -> sa.Select[tuple[int, uuid.UUID, str, bool, dt.datetime]]:
    return (
        sa.select(things.c.id, things.c.key, things.c.name, things.c.flag, things.c.at)
        .where(in_list(things.c.key, "keys", dialect), things.c.id >= sa.bindparam("from_id"))
        .order_by(things.c.id)
    )


BY_KEYS = DriverStatement(_by_keys, lists={"keys": sa.Uuid()})


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(own_database_url(tmp_path, "driver_statements"))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            things.insert(),
            [
                {"id": i, "key": key, "name": f"n{i}", "flag": i % 2 == 0, "at": WHEN}
                for i, key in enumerate(KEYS)
            ]
            + [{"id": -1, "key": None, "name": None, "flag": None, "at": None}],
        )
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def test_rows_carry_the_columns_types_as_core_reads_them(engine):
    with Session(engine) as session:
        rows = BY_KEYS.rows(session, {"keys": [KEYS[3], KEYS[8]], "from_id": 0})
    assert [tuple(row) for row in rows] == [
        (3, KEYS[3], "n3", False, WHEN),
        (8, KEYS[8], "n8", True, WHEN),
    ]


def test_nulls_stay_none(engine):
    nulls = DriverStatement(
        lambda _: sa.select(things.c.key, things.c.flag, things.c.at).where(things.c.id == -1),
        lists={},
    )
    with Session(engine) as session:
        assert [tuple(row) for row in nulls.rows(session, {})] == [(None, None, None)]


def test_a_list_of_any_length_is_read_whole_and_an_empty_one_matches_nothing(engine):
    with Session(engine) as session:
        assert BY_KEYS.rows(session, {"keys": [], "from_id": 0}) == []
        assert len(BY_KEYS.rows(session, {"keys": KEYS, "from_id": 0})) == len(KEYS)


def test_outside_a_transaction_each_thread_keeps_one_reader_until_the_engine_is_disposed(engine):
    with Session(engine) as session:
        BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 0})
        BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 0})
        assert not session.in_transaction()
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    elsewhere = threading.Thread(
        target=lambda: BY_KEYS.rows(Session(engine), {"keys": KEYS[:1], "from_id": 0})
    )
    elsewhere.start()
    elsewhere.join()
    assert engine.pool.checkedout() == 2  # type: ignore[attr-defined]
    engine.dispose()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    pooled = engine.raw_connection()
    try:
        # Not handed back in autocommit: PostgreSQL's readers are closed, not returned.
        assert getattr(pooled.driver_connection, "autocommit", False) is False
    finally:
        pooled.close()


def test_only_the_pools_size_in_readers_is_kept_and_other_threads_borrow_for_each_read(tmp_path):
    engine = sa.create_engine(own_database_url(tmp_path, "driver_statements"), pool_size=2)
    metadata.create_all(engine)
    try:
        threads = [
            threading.Thread(
                target=lambda: BY_KEYS.rows(Session(engine), {"keys": [], "from_id": 0})
            )
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
            thread.join()
        assert engine.pool.checkedout() == 2  # type: ignore[attr-defined]
        pooled = engine.raw_connection()
        try:  # a borrowed one came back as it was lent
            assert getattr(pooled.driver_connection, "autocommit", False) is False
        finally:
            pooled.close()
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_a_reader_idle_past_the_ping_interval_whose_connection_died_is_replaced(
    engine, monkeypatch
):
    import consent_service.infra.driver_statements as driver_statements

    with Session(engine) as session:
        BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 0})
        reader, kept = driver_statements._readers_of(engine).for_this_thread()
        assert kept
        reader.driver_connection.close()  # as a restarted server leaves it
        monkeypatch.setattr(driver_statements, "PING_AFTER_IDLE_SECONDS", 0.0)
        rows = BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 0})
    assert [row[0] for row in rows] == [0]
    assert driver_statements._readers_of(engine).for_this_thread()[0] is not reader


def test_inside_a_transaction_it_reads_what_the_transaction_wrote(engine):
    with Session(engine) as session:
        session.execute(things.insert().values(id=20_000, key=KEYS[0], name="new"))
        rows = BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 1})
        assert [row[2] for row in rows] == ["new"]
        session.rollback()
        assert BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 1}) == []


def test_a_database_error_is_raised_as_core_raises_it_and_the_reader_stays_usable(engine):
    missing = DriverStatement(lambda _: sa.select(sa.table("no_such_table", sa.column("x"))))
    with Session(engine) as session:
        with pytest.raises(sa.exc.DBAPIError):
            missing.rows(session, {})
        assert len(BY_KEYS.rows(session, {"keys": KEYS[:2], "from_id": 0})) == 2


def test_two_lists_in_one_statement_each_bind_their_own_values(engine):
    both = DriverStatement(
        lambda dialect: (
            sa.select(things.c.id)
            .where(in_list(things.c.key, "keys", dialect), in_list(things.c.id, "ids", dialect))
            .order_by(things.c.id)
        ),
        lists={"keys": sa.Uuid(), "ids": sa.Integer()},
    )
    with Session(engine) as session:
        rows = both.rows(session, {"keys": KEYS[:5], "ids": [1, 3, 7, 9_999]})
    assert [row[0] for row in rows] == [1, 3]


INSERT = DriverStatement(
    lambda _: things.insert().values({c: sa.bindparam(c) for c in ("id", "key", "flag", "at")})
)


def test_a_write_runs_in_the_sessions_transaction_with_values_bound_as_core_binds_them(engine):
    with Session(engine) as session:
        INSERT.run(session, {"id": 30_000, "key": KEYS[0], "flag": True, "at": WHEN})
        assert session.in_transaction()
        session.rollback()  # nothing of it stays
        assert BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 30_000}) == []
        INSERT.run(session, {"id": 30_000, "key": KEYS[0], "flag": True, "at": WHEN})
        session.commit()
        rows = BY_KEYS.rows(session, {"keys": KEYS[:1], "from_id": 30_000})
    assert [tuple(row) for row in rows] == [(30_000, KEYS[0], None, True, WHEN)]


def test_many_rows_are_written_by_one_call(engine):
    rows = [{"id": 40_000 + i, "key": KEYS[i], "flag": False, "at": WHEN} for i in range(3)]
    with Session(engine) as session:
        INSERT.run_many(session, rows)
        INSERT.run_many(session, [])
        session.commit()
        read = BY_KEYS.rows(session, {"keys": KEYS[:3], "from_id": 40_000})
    assert [row[0] for row in read] == [40_000, 40_001, 40_002]


def test_a_broken_constraint_is_core_s_integrity_error_and_the_transaction_rolls_back(engine):
    with Session(engine) as session:
        with pytest.raises(sa.exc.IntegrityError):
            INSERT.run(session, {"id": 1, "key": None, "flag": None, "at": None})  # id 1 exists
        session.rollback()
        INSERT.run(session, {"id": 50_000, "key": None, "flag": None, "at": None})
        session.commit()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
