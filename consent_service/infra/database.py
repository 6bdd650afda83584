"""Engine behaviour the domain relies on, for both SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import itertools
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from consent_service.infra.process_lock import FileLock

WRITE_INTENT = "consent_write_intent"
_HOLDS_WRITE_LOCK = "consent_holds_write_lock"


@dataclasses.dataclass(frozen=True)
class TimeLimits:
    """How long the service waits on its database (README "Database outages").

    ``connect`` bounds opening a connection and the ping of a pooled one; ``statement`` each
    statement (PostgreSQL's ``statement_timeout``; SQLite's busy timeout, the wait for the
    write lock). A PostgreSQL that stops answering cannot enforce its own timeout, so the
    client cuts the connection ``connect`` seconds after a statement's ``statement``.
    """

    connect: float
    statement: float

    @property
    def statement_with_grace(self) -> float:
        return self.statement + self.connect


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "consent_database_deadline", default=None
)


@contextlib.contextmanager
def answer_within(seconds: float) -> Iterator[None]:
    """Bound every wait on the database in this block (connecting, pinging, each statement)
    by one deadline ``seconds`` from now, however long the engine's own limits are: for
    checks with a budget of their own, such as readiness."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


_unlimited_statements: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "consent_unlimited_statements", default=False
)


@contextlib.contextmanager
def statements_unlimited(connection: sa.Connection) -> Iterator[None]:
    """Let the statements of this block, inside one transaction on ``connection``, take as
    long as they take: schema migrations, whose length grows with the data and which an
    operator runs and watches. Connecting and pinging stay bounded."""
    token = _unlimited_statements.set(True)
    try:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        yield
    finally:
        _unlimited_statements.reset(token)


def _within_deadline(seconds: float) -> float:
    deadline = _deadline.get()
    if deadline is None:
        return seconds
    return min(seconds, deadline - time.monotonic())


class _Watchdog:
    """Cuts (``shutdown()``) the socket of a PostgreSQL connection whose call outlives its
    limit, so the thread waiting on it gets an error at once: a frozen server acknowledges
    at the TCP level and never answers, and libpq has no read timeout of its own. One
    thread per process, started on first use (and again in a forked worker)."""

    _TICK = 0.1

    def __init__(self) -> None:
        self._fresh()
        # A forked child (a gunicorn worker) has no watchdog thread, and the parent's lock may
        # have been held by one of its threads: it starts afresh, without a getpid per call.
        os.register_at_fork(after_in_child=self._fresh)

    def _fresh(self) -> None:
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[float, int]] = {}
        self._tokens = itertools.count()
        self._started = False

    def watch(self, dbapi_connection: Any, seconds: float) -> int | None:
        """Start watching a call on ``dbapi_connection``; the token to :meth:`unwatch` it by
        (None: nothing to watch). A plain pair, not a context manager: it wraps every
        statement, commit and rollback."""
        if seconds == math.inf:
            return None
        try:
            fileno = dbapi_connection.fileno()
        except Exception:  # closed already: nothing to wait on, the call itself will say so
            return None
        token = next(self._tokens)
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="database-watchdog", daemon=True).start()
            self._watched[token] = (time.monotonic() + max(seconds, 0.0), fileno)
        return token

    def unwatch(self, token: int | None) -> None:
        if token is not None:
            with self._lock:
                self._watched.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(self._TICK)
            now = time.monotonic()
            with self._lock:
                for token, (deadline, fileno) in list(self._watched.items()):
                    if now >= deadline:
                        self._watched.pop(token, None)
                        _cut(fileno)


def _cut(fileno: int) -> None:
    """Shut the socket down for both directions (the connection's owner still closes it)."""
    try:
        duplicate = socket.socket(fileno=os.dup(fileno))
    except OSError:
        return
    with contextlib.suppress(OSError):
        duplicate.shutdown(socket.SHUT_RDWR)
    duplicate.close()


_watchdog = _Watchdog()


def configure_engine(engine: sa.Engine, limits: TimeLimits) -> None:
    """Bound every wait on the database by ``limits`` (see :class:`TimeLimits`)."""
    if engine.dialect.name == "postgresql":
        _bound_postgresql_calls(engine, limits)
        _ping_when_idle(engine)
    elif engine.dialect.name == "sqlite":
        _configure_sqlite(engine, limits)


# A pooled PostgreSQL connection idle for this long is pinged before use.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Ping a pooled connection before use only when it has sat idle for
    ``PING_AFTER_IDLE_SECONDS``; a dead one is replaced, as ``pool_pre_ping`` would.

    ``pool_pre_ping`` pings at every checkout: a round trip and ~140 us of CPU per request,
    as much as a whole request of a bare Flask endpoint, to learn that a connection used a
    few milliseconds ago still works. A connection used within the last second is trusted:
    should the server have died since, its request fails closed (503) and the pool is
    invalidated; should it hang, the statement's own limit cuts it (README "Database
    outages"). The ping itself is bounded like every call (``_bound_postgresql_calls``).
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)  # None: just connected
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool discards it and checks out (or opens) another.
                raise sa.exc.DisconnectionError(str(exc)) from exc
            raise


_IDLE_SINCE = "consent_idle_since"


def _bound_postgresql_calls(engine: sa.Engine, limits: TimeLimits) -> None:
    """Each blocking call the engine makes on a PostgreSQL connection (statements, commit,
    rollback, the pool's ping) is cut at its limit, within any :func:`answer_within` budget;
    a new connection's ``connect_timeout`` shrinks to that budget (libpq's minimum is 2 s)."""
    dialect = engine.dialect

    def bounded(call: Callable[..., Any], seconds: Callable[[], float]) -> Callable[..., Any]:
        def run(dbapi_object: Any, *args: Any, **kwargs: Any) -> Any:
            # A cursor, a DBAPI connection, or the pool's wrapper of one.
            connection = getattr(dbapi_object, "dbapi_connection", None) or getattr(
                dbapi_object, "connection", dbapi_object
            )
            token = _watchdog.watch(connection, seconds())
            try:
                return call(dbapi_object, *args, **kwargs)
            finally:
                _watchdog.unwatch(token)

        return run

    def statement() -> float:
        if _unlimited_statements.get():
            return _within_deadline(math.inf)
        return _within_deadline(limits.statement_with_grace)

    def ping() -> float:
        return _within_deadline(limits.connect)

    limit_of = {
        "do_execute": statement,
        "do_executemany": statement,
        "do_execute_no_params": statement,
        "do_commit": statement,
        "do_rollback": statement,
        "do_ping": ping,
    }
    for name, limit in limit_of.items():
        setattr(dialect, name, bounded(getattr(dialect, name), limit))

    @event.listens_for(engine, "do_connect")
    def _on_connect(
        _dialect: Any, _record: object, _cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        if _deadline.get() is None:
            return
        remaining = _within_deadline(limits.connect)
        if remaining <= 0:
            raise dialect.loaded_dbapi.OperationalError("no time left to connect")
        cparams["connect_timeout"] = max(2, math.ceil(remaining))


def _configure_sqlite(engine: sa.Engine, limits: TimeLimits) -> None:
    """Give SQLite real transactions, foreign keys, WAL and a write-lock-first BEGIN.

    pysqlite's own transaction handling emits no BEGIN before SELECTs and breaks SAVEPOINTs,
    so the driver's is switched off and BEGIN is issued here (the SQLAlchemy-documented recipe).
    A transaction that will write after reading asks for ``BEGIN IMMEDIATE`` through
    :func:`begin_write`, so it never fails with ``SQLITE_BUSY_SNAPSHOT`` when it upgrades.
    Such writers of one process also queue on a lock held until the connection goes back to
    the pool, and writers of every process (the embedded mode's gunicorn workers, the outbox
    worker, commands) on a file lock beside the database (``infra.process_lock``), held as
    long: a waiting writer then wakes the moment the writer before it is done, instead of
    polling in SQLite's busy handler (which sleeps up to 100 ms a try). The waits end
    together after ``limits.statement`` with "database is locked".
    """
    write_lock = threading.Lock()
    database = engine.url.database
    on_file = database not in (None, "", ":memory:") and "mode=memory" not in str(engine.url)
    file_lock = FileLock(Path(f"{database}-write-lock")) if on_file else None
    busy_timeout_ms = int(limits.statement * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if on_file:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if not connection.get_execution_options().get(WRITE_INTENT):
            connection.exec_driver_sql("BEGIN")
            return
        if not write_lock.acquire(timeout=max(_within_deadline(limits.statement), 0)):
            raise _locked("another writer of this process held it too long")
        if file_lock is not None and not file_lock.acquire(
            max(_within_deadline(limits.statement), 0)
        ):
            write_lock.release()
            raise _locked("a writer of another process held it too long")
        connection.info[_HOLDS_WRITE_LOCK] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_HOLDS_WRITE_LOCK, False):
            if file_lock is not None:
                file_lock.release()
            write_lock.release()

    if file_lock is not None:
        event.listen(engine, "engine_disposed", lambda _engine: file_lock.close())

    def _locked(why: str) -> sa.exc.OperationalError:
        return sa.exc.OperationalError(
            "BEGIN IMMEDIATE",
            None,
            engine.dialect.loaded_dbapi.OperationalError(f"database is locked ({why})"),
        )


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


_RELAXED_COMMIT = sa.text("SET LOCAL synchronous_commit TO OFF")


def relax_commit_durability(on: Session | sa.Connection) -> None:
    """Let this transaction's commit return before its WAL record reaches disk (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only).

    For records whose loss in a database crash costs little next to a disk flush on every
    request (the look-up log): a crash can lose the last few hundred milliseconds of them,
    never corrupt or reorder anything. SQLite in WAL mode with ``synchronous=NORMAL``
    already behaves so.
    """
    bind = on.get_bind() if isinstance(on, Session) else on
    if bind.dialect.name == "postgresql":
        on.execute(_RELAXED_COMMIT)


def execute_core(
    session: Session, statement: sa.Executable, params: Any = None
) -> sa.CursorResult[Any]:
    """Run a Core statement on the session's connection, skipping the ORM execution layer
    (on the hot paths it costs more than the statement itself)."""
    return session.connection().execute(statement, params)


def keyset_batches(
    session: Session, query: sa.Select[Any], id_column: sa.ColumnElement[Any], batch_size: int
) -> Iterator[list[sa.Row[Any]]]:
    """``query``'s rows in batches of at most ``batch_size``, by ascending ``id_column``, each
    read after the last id of the one before: memory stays flat however many rows match, and
    a row the caller rewrites between batches is never read twice."""
    after = None
    while True:
        page = query.order_by(id_column).limit(batch_size)
        if after is not None:
            page = page.where(id_column > after)
        rows = list(execute_core(session, page).all())
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        after = rows[-1]._mapping[id_column]


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
