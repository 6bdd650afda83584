"""Engine behaviour the domain relies on, for both SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

WRITE_INTENT = "consent_write_intent"
_HOLDS_WRITE_LOCK = "consent_holds_write_lock"


def configure_engine(engine: sa.Engine) -> None:
    """Give SQLite real transactions, foreign keys, WAL and a write-lock-first BEGIN.

    pysqlite's own transaction handling emits no BEGIN before SELECTs and breaks SAVEPOINTs,
    so the driver's is switched off and BEGIN is issued here (the SQLAlchemy-documented recipe).
    A transaction that will write after reading asks for ``BEGIN IMMEDIATE`` through
    :func:`begin_write`, so it never fails with ``SQLITE_BUSY_SNAPSHOT`` when it upgrades.
    Such writers of one process also queue on a lock held until the connection goes back to
    the pool: waiting threads then wake the moment the writer is done, instead of polling in
    SQLite's busy handler (which sleeps up to 100 ms a try). Other processes still queue on
    the busy timeout, which is why the embedded mode runs one process.
    """
    if engine.dialect.name != "sqlite":
        return
    write_lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if not connection.get_execution_options().get(WRITE_INTENT):
            connection.exec_driver_sql("BEGIN")
            return
        write_lock.acquire()
        connection.info[_HOLDS_WRITE_LOCK] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_HOLDS_WRITE_LOCK, False):
            write_lock.release()


@contextlib.contextmanager
def commit_or_roll_back(session: Session) -> Iterator[Session]:
    """Commit what the block did to ``session``, or roll all of it back and re-raise: the one
    way a surface (a view, a command, the worker) ends its unit of work. Domain functions
    never commit; they are called inside such a block."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def begin_write(session: Session) -> None:
    """Declare that this transaction will write; call it before the first query.

    A no-op on PostgreSQL (row locks do the work there) and once a transaction has begun.
    """
    if not session.in_transaction():
        session.connection(execution_options={WRITE_INTENT: True})


def switch_to_writing(session: Session) -> None:
    """End a read-only stretch of the transaction so that it may write.

    On SQLite a read transaction cannot safely turn into a write one (another writer may
    have committed since its snapshot), so the read ends and a write transaction begins,
    queued behind other writers only now. PostgreSQL carries on in the same transaction.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()
        begin_write(session)


def relax_commit_durability(session: Session) -> None:
    """Let this transaction's commit return before its WAL record reaches disk (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only).

    For records whose loss in a database crash costs little next to a disk flush on every
    request (the look-up log): a crash can lose the last few hundred milliseconds of them,
    never corrupt or reorder anything. SQLite in WAL mode with ``synchronous=NORMAL``
    already behaves so.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def execute_core(
    session: Session, statement: sa.Executable, params: Any = None
) -> sa.CursorResult[Any]:
    """Run a Core statement on the session's connection, skipping the ORM execution layer
    (on the hot paths it costs more than the statement itself)."""
    return session.connection().execute(statement, params)


def dialect_insert_for(name: str, table: sa.Table) -> Any:
    """An INSERT that supports ``on_conflict_do_*`` on the named dialect."""
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def database_ready(session: Session) -> str | None:
    """None when the database answers and is migrated; otherwise why not."""
    try:
        session.execute(sa.text("SELECT 1 FROM alembic_version"))
    except sa.exc.SQLAlchemyError as exc:
        session.rollback()
        return type(exc).__name__
    finally:
        session.rollback()
    return None
