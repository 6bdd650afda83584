"""Hot-path statements run straight on the database driver: look-ups' reads, and a consent's
writes inside its transaction.

A look-up is one SELECT, yet executing it through the ORM session and Core cost seven times
the statement itself (measured on SQLite: 0.26 ms against 0.034 ms for the same SQL on a
pooled DBAPI connection): the session's transaction bookkeeping, Core's per-execution
context, the expanding IN parameters rendered again for every call; on PostgreSQL Core added
~0.04 ms to each of a consent's statements (0.10 against 0.06 ms). A
:class:`DriverStatement` is still written as a Core statement (one place for the SQL, typed
columns), compiled once per dialect; each call hands the driver that SQL and the parameters
converted by the columns' own bind processors, and converts the results with their result
processors, exactly as Core would. Errors are raised as Core raises them (an
``IntegrityError`` is an ``IntegrityError``).

Lists of values (:func:`in_list`) travel on PostgreSQL as one JSON text parameter turned
into an array on the server, so it plans one parameter, not ten thousand (an IN list that
long took 14 ms to plan); on SQLite as one placeholder per value, whose SQL text is made
once per list length.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm import Session

from consent_service.infra.database import PING_AFTER_IDLE_SECONDS

Processor = Callable[[Any], Any]


def in_list(
    column: sa.ColumnElement[Any] | QueryableAttribute[Any], name: str, dialect: str
) -> sa.ColumnElement[bool]:
    """``column`` is one of the values of the list parameter ``name``: on PostgreSQL one JSON
    text whatever the list's length, on SQLite as many placeholders as values."""
    if dialect == "postgresql":
        text = sa.bindparam(name, type_=sa.String())
        # As an array (one value for the planner, which then probes the column's index for
        # each element); built from text on the server, where an array parameter had the
        # driver inspect every element (a tenth of a look-up's CPU).
        items = sa.func.json_array_elements_text(sa.cast(text, postgresql.JSON))
        typed = sa.select(sa.cast(items.table_valued("value").c.value, column.type))
        return column == sa.any_(sa.func.array(typed.scalar_subquery()))
    # SQLite: a placeholder per value, written in at each call (a 10,000-key json_each took a
    # third longer than the same keys bound one by one; the driver keeps the prepared
    # statement of each length it sees, so single look-ups reuse theirs).
    return column.op("IN", is_comparison=True)(sa.literal_column(f"({_LIST.format(name)})"))


_LIST = "__fast_list_{}__"


# Any SELECT (whatever its columns), or DML.
Statement = (
    sa.Select[*tuple[Any, ...]]
    | sa.CompoundSelect[*tuple[Any, ...]]
    | sa.Insert
    | sa.Update
    | sa.Delete
)


class DriverStatement:
    """A statement built by ``build(dialect_name)``, run on the driver (see the module's doc).

    ``lists`` names the parameters made by :func:`in_list`, with the type of their items
    (their values are converted as the column's type would bind them).
    """

    def __init__(
        self,
        build: Callable[[str], Statement],
        lists: Mapping[str, sa.types.TypeEngine[Any]] | None = None,
    ) -> None:
        self._build = build
        self._lists = dict(lists or {})
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Every row, as tuples in the statement's column order, read on the connection of the
        session's transaction if it has one (so it sees what the transaction wrote), else on a
        pooled connection of its own, outside any transaction."""
        bind = session.get_bind()
        compiled = self._for(bind.dialect)
        sql, arguments = compiled.bound(params)
        with _driver_connection(session, bind) as connection:
            rows = _execute(bind.dialect, connection, sql, arguments, many=False, fetch=True)
        return compiled.converted(rows)

    def run(self, session: Session, params: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows, in the session's transaction (begun if it has
        none, as ``session.connection()`` begins it)."""
        self._run(session, params, many=False)

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per set of parameters, as one ``executemany`` of the driver, in the
        session's transaction."""
        if rows:
            self._run(session, rows, many=True)

    def _run(self, session: Session, params: Any, *, many: bool) -> None:
        dialect = session.get_bind().dialect
        compiled = self._for(dialect)
        arguments: Any
        if many:  # one SQL text for every row: no list parameters
            bound = [compiled.bound(p) for p in params]
            sql, arguments = bound[0][0], [a for _, a in bound]
        else:
            sql, arguments = compiled.bound(params)
        connection = session.connection().connection.driver_connection
        _execute(dialect, connection, sql, arguments, many=many, fetch=False)

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                compiled = _Compiled(self._build(dialect.name), dialect, self._lists)
                self._compiled[dialect.name] = compiled
        return compiled


def _execute(
    dialect: Dialect, connection: Any, sql: str, arguments: Any, *, many: bool, fetch: bool
) -> list[Any]:
    """Run ``sql`` on a DBAPI connection; its rows if ``fetch``."""
    cursor = connection.cursor()
    try:
        # The dialect's calls, not the cursor's: they carry the service's limits (a frozen
        # server's socket is cut, ``infra.database``).
        if many:
            dialect.do_executemany(cursor, sql, arguments, None)
        else:
            dialect.do_execute(cursor, sql, arguments, None)
        return cursor.fetchall() if fetch else []
    except dialect.loaded_dbapi.Error as error:
        # As Core raises it: the service answers a database it cannot reach with a 503
        # (``errors``), and a broken constraint is an IntegrityError, whichever way it ran.
        raise sa.exc.DBAPIError.instance(
            sql, arguments, error, dialect.loaded_dbapi.Error
        ) from error
    finally:
        cursor.close()


def bound_value(processor: Processor | None, value: Any) -> Any:
    """``value`` as a column's bind ``processor`` hands it to the driver (None stays None)."""
    return value if processor is None or value is None else processor(value)


class _Compiled:
    """One statement's driver SQL for one dialect, and how its values are converted."""

    def __init__(
        self,
        statement: Statement,
        dialect: Dialect,
        lists: Mapping[str, sa.types.TypeEngine[Any]],
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._scalars: dict[str, Processor | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
            if name not in lists
        }
        # Values written into the statement itself (``column == 5``): bound as Core binds them.
        self._fixed = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }
        self._lists: dict[str, Processor | None] = {
            name: item.dialect_impl(dialect).bind_processor(dialect) for name, item in lists.items()
        }
        # SQLite's lists: (name, how many placeholders precede it), the last in the text
        # first, so that each is spliced into the arguments where the ones before it stand.
        at = {name: self.sql.find(_LIST.format(name)) for name in lists}
        self._spliced = [
            (name, self.sql[: at[name]].count("?"))
            for name in sorted(at, key=lambda name: -at[name])
            if at[name] >= 0
        ]
        self._sql_by_lengths: dict[tuple[int, ...], str] = {}
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            # A SELECT's columns, or the RETURNING of an INSERT (none: no conversion).
            for column in statement.exported_columns
        ]
        self._results = [(i, p) for i, p in enumerate(processors) if p is not None]

    def bound(self, params: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL to run for ``params``, and the driver's arguments for it."""
        values: dict[str, Any] = {}
        for name, processor in self._scalars.items():
            values[name] = bound_value(
                processor, params[name] if name in params else self._fixed[name]
            )
        items: dict[str, list[Any]] = {}
        for name, processor in self._lists.items():
            given = params[name]
            items[name] = list(given) if processor is None else [processor(v) for v in given]
        if not self._spliced:
            for name, listed in items.items():
                # UUIDs as text where the driver would have bound them as objects.
                values[name] = json.dumps(listed, default=str)
        if self._positions is None:
            return self.sql, values
        arguments = [values[name] for name in self._positions]
        for name, before in self._spliced:
            arguments[before:before] = items[name]
        return self._sql_for(tuple(len(items[name]) for name, _ in self._spliced)), arguments

    def _sql_for(self, lengths: tuple[int, ...]) -> str:
        sql = self._sql_by_lengths.get(lengths)
        if sql is None:
            sql = self.sql
            for (name, _), length in zip(self._spliced, lengths, strict=True):
                # No value matches nothing: ``IN (NULL)`` is never true.
                sql = sql.replace(_LIST.format(name), ",".join("?" * length) or "NULL")
            if len(self._sql_by_lengths) >= 256:
                self._sql_by_lengths.clear()
            self._sql_by_lengths[lengths] = sql
        return sql

    def converted(self, rows: list[Any]) -> list[Sequence[Any]]:
        if not self._results:
            return rows
        out: list[Sequence[Any]] = []
        results = self._results
        for row in rows:
            row = list(row)
            for i, processor in results:
                row[i] = processor(row[i])
            out.append(row)
        return out


@contextmanager
def _driver_connection(session: Session, bind: sa.Engine | sa.Connection) -> Iterator[Any]:
    """The DBAPI connection to read on: the session's, while it holds a transaction (or is
    bound to a connection, as the test suite binds it); otherwise this thread's reader (see
    :class:`_Readers`)."""
    if session.in_transaction():
        yield session.connection().connection.driver_connection
        return
    if isinstance(bind, sa.Connection):
        yield bind.connection.driver_connection
        return
    readers = _readers_of(bind)
    pooled, kept = readers.for_this_thread()
    connection: Any = pooled.driver_connection
    try:
        yield connection
    except sa.exc.DBAPIError as error:
        orig: Any = error.orig
        if error.connection_invalidated or bind.dialect.is_disconnect(orig, connection, None):
            readers.discard(pooled, orig)  # never used again: the next read connects afresh
        raise
    finally:
        if not kept:
            readers.give_back(pooled)
    readers.used()


class _Readers:
    """Each thread's connection for reads outside any transaction, taken from the engine's
    pool once and kept (in autocommit on PostgreSQL) instead of being checked out and in for
    every look-up: that round of the pool's bookkeeping, and on PostgreSQL switching
    autocommit on and off, cost a sixth of a single look-up's CPU.

    At most the pool's ``pool_size`` readers are kept per process, so that the pool's
    overflow stays for the threads' writes: a thread beyond them borrows a connection for
    each read and gives it back. A reader idle for ``PING_AFTER_IDLE_SECONDS`` is pinged
    first, as the pool pings its connections (``infra.database``); a dead one is replaced. A
    forked child never uses its parent's (the socket is the parent's). The engine's
    ``dispose()`` closes them all.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        pool = engine.pool
        self._capacity = pool.size() if isinstance(pool, sa.pool.QueuePool) else None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._held: list[tuple[int, Any]] = []  # every thread's, with its process, for dispose()
        sa.event.listen(engine, "engine_disposed", self._close_all)

    def for_this_thread(self) -> tuple[Any, bool]:
        """This thread's reader, and True; or, with every reader this process may keep taken,
        a connection lent for one read, and False (:meth:`give_back` it)."""
        local = self._local
        pooled = getattr(local, "pooled", None)
        usable = pooled is not None and local.pid == os.getpid() and pooled.is_valid
        if usable and (
            time.monotonic() - local.used_at < PING_AFTER_IDLE_SECONDS or self._alive(pooled)
        ):
            return pooled, True
        pooled = self._engine.raw_connection()
        if self._engine.dialect.name == "postgresql":
            connection: Any = pooled.driver_connection
            connection.autocommit = True  # no BEGIN and ROLLBACK round trips
        pid = os.getpid()
        with self._lock:
            kept = sum(1 for held_by, _ in self._held if held_by == pid)
            if self._capacity is not None and kept >= self._capacity:
                return pooled, False
            self._held.append((pid, pooled))
        local.pooled, local.pid, local.used_at = pooled, pid, time.monotonic()
        return pooled, True

    def give_back(self, pooled: Any) -> None:
        """Return a lent connection to the pool as it was lent (autocommit off again)."""
        connection: Any = pooled.driver_connection
        if self._engine.dialect.name == "postgresql" and pooled.is_valid and not connection.closed:
            connection.autocommit = False
        pooled.close()

    def used(self) -> None:
        self._local.used_at = time.monotonic()

    def discard(self, pooled: Any, error: BaseException | None) -> None:
        with self._lock:
            self._held = [(pid, held) for pid, held in self._held if held is not pooled]
        if getattr(self._local, "pooled", None) is pooled:
            self._local.pooled = None
        pooled.invalidate(error)

    def _alive(self, pooled: Any) -> bool:
        try:
            self._engine.dialect.do_ping(pooled.driver_connection)
        except self._engine.dialect.loaded_dbapi.Error as error:
            self.discard(pooled, error)
            return False
        return True

    def _close_all(self, _engine: sa.Engine) -> None:
        with self._lock:
            held, self._held = self._held, []
        for pid, pooled in held:
            # A forked child leaves its parent's alone: closing would end the parent's session.
            if pid == os.getpid() and pooled.is_valid:
                pooled.invalidate()  # closed, not handed back to the pool in autocommit


_READERS: weakref.WeakKeyDictionary[sa.Engine, _Readers] = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def _readers_of(engine: sa.Engine) -> _Readers:
    readers = _READERS.get(engine)
    if readers is None:
        with _READERS_LOCK:
            readers = _READERS.get(engine)
            if readers is None:
                readers = _READERS[engine] = _Readers(engine)
    return readers
