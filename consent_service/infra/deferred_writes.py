"""Writes a request must leave behind but need not wait for (the look-ups' access log, an API
key's last use): one statement run for many parameter sets, in batches, by one background
thread per process.

A request only appends its parameters to an in-memory buffer: it never waits for the
database, so on SQLite a look-up never queues behind a consent write for the single write
lock. The thread writes what is buffered every ``flush_seconds`` (sooner once ``batch_rows``
are waiting), in one transaction of its own; a failed write keeps the rows, in order, and is
retried. Closing (``close``: the app's shutdown, a gunicorn worker's exit, the interpreter's
``atexit``) writes everything still buffered.

What a crash (SIGKILL, out of memory, power loss) loses is exactly what is buffered: at most
the last ``flush_seconds`` of rows, or, while the database refuses the writes, up to
``max_weight`` of them. At that bound a request waits up to ``wait_seconds`` for room and
then gets :class:`~consent_service.errors.DatabaseUnavailable`, so what was not logged was
not answered either.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import DatabaseUnavailable
from consent_service.infra.database import WRITE_INTENT
from consent_service.infra.database import execute_core
from consent_service.infra.database import switch_to_writing

log = logging.getLogger(__name__)

Row = dict[str, Any]
# The longest pause between retries while the database refuses the writes.
MAX_RETRY_SECONDS = 5.0


class DeferredWrites:
    """Runs ``statement`` (an INSERT or UPDATE) with each row of parameters :meth:`write`
    gets: buffered (``flush_seconds`` > 0), or at once in the caller's transaction (0: the
    caller's commit is the write's; the test suite's rolled-back transactions need it)."""

    def __init__(
        self,
        engine: sa.Engine,
        statement: sa.Executable,
        *,
        flush_seconds: float,
        wait_seconds: float,
        batch_rows: int = 500,
        max_weight: int = 200_000,
        prepare: Callable[[sa.Connection], None] | None = None,
        name: str = "deferred writes",
    ) -> None:
        self._engine = engine
        self._statement = statement
        self._flush_seconds = flush_seconds
        self._wait_seconds = wait_seconds
        self._batch_rows = batch_rows
        self._max_weight = max_weight
        self._prepare = prepare
        self._name = name
        self.buffered = flush_seconds > 0 and not (
            # Each thread of an in-memory SQLite has a database of its own: the request's.
            engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
        )
        self._start_fresh()
        if self.buffered:
            own = weakref.ref(self)
            # A forked child (a gunicorn worker) starts with an empty buffer and no thread:
            # the parent's rows are the parent's to write; its locks may be held by its threads.
            os.register_at_fork(after_in_child=lambda: _call(own, DeferredWrites._start_fresh))
            atexit.register(_call, own, DeferredWrites.close)

    def _start_fresh(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the thread: rows are due, or stop
        self._room = threading.Condition(self._lock)  # requests: the buffer has room again
        self._writing = threading.Lock()  # one batch at a time, thread or caller
        self._rows: list[tuple[Row, int]] = []
        self._weight = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def write(self, session: Session, row: Row, *, weight: int = 1) -> None:
        """Write ``row``: buffered, or in ``session``'s transaction (on SQLite its reads end
        there and a write transaction begins, queued behind other writers only then)."""
        if self.buffered:
            self.add(row, weight=weight)
            return
        switch_to_writing(session)
        if self._prepare is not None:
            self._prepare(session.connection())
        execute_core(session, self._statement, row)

    def add(self, row: Row, *, weight: int = 1) -> None:
        """Buffer ``row`` (``weight``: what it counts against ``max_weight``, e.g. its items);
        returns at once unless the buffer is full, then waits for room up to ``wait_seconds``
        and raises DatabaseUnavailable."""
        with self._lock:
            if self._weight >= self._max_weight and not self._room.wait_for(
                lambda: self._weight < self._max_weight, timeout=self._wait_seconds
            ):
                raise DatabaseUnavailable(
                    f"the {self._name} could not be written for a while, so nothing is "
                    "answered that could not be recorded",
                    retry_after=5,
                )
            self._rows.append((row, weight))
            self._weight += weight
            write_now = self._closed  # no thread will come for it
            if not write_now and self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif not write_now and len(self._rows) >= self._batch_rows:
                self._wake.notify()
        if write_now:
            self.flush()

    def flush(self) -> int:
        """Write every row buffered now, in the caller's thread; how many were written.
        Raises the database's error, keeping the rows for the next attempt."""
        with self._writing:
            with self._lock:
                taken, self._rows = self._rows, []
            if not taken:
                return 0
            try:
                self._insert([row for row, _ in taken])
            except BaseException:
                with self._lock:
                    self._rows[:0] = taken
                raise
            with self._lock:
                self._weight -= sum(weight for _, weight in taken)
                self._room.notify_all()
            return len(taken)

    def close(self) -> None:
        """Stop the thread and write what remains (idempotent); rows added later are written
        at once, in the adding thread."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            self._wake.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        try:
            self.flush()
        except sa.exc.SQLAlchemyError:
            log.exception("%s: %d rows could not be written at shutdown", self._name, self.pending)

    @property
    def pending(self) -> int:
        """Rows buffered and not yet written."""
        return len(self._rows)

    def _insert(self, rows: list[Row]) -> None:
        with self._engine.connect() as connection:
            # On SQLite the batch queues behind this process's other writers (a BEGIN
            # IMMEDIATE, see ``infra.database``): this thread waits, no request does.
            connection.execution_options(**{WRITE_INTENT: True})
            with connection.begin():
                if self._prepare is not None:
                    self._prepare(connection)
                connection.execute(self._statement, rows)

    def _run(self) -> None:
        pause = self._flush_seconds
        while True:
            # A full batch is written at once, unless the last write failed: then the pause
            # between tries holds, however many rows arrive meanwhile.
            batch = self._batch_rows if pause == self._flush_seconds else math.inf
            with self._lock:
                self._wake.wait_for(
                    lambda: self._closed or len(self._rows) >= batch,  # noqa: B023 (waits here)
                    timeout=pause,
                )
                if self._closed:
                    return
            try:
                self.flush()
                pause = self._flush_seconds
            except Exception:
                # Kept for the next try; the buffer's bound turns a long outage into 503s.
                log.warning(
                    "%s: %d rows not written yet, retrying in %.1f s",
                    self._name,
                    self.pending,
                    pause,
                    exc_info=True,
                )
                pause = min(pause * 2, MAX_RETRY_SECONDS)


def _call(own: weakref.ref[DeferredWrites], method: Callable[[DeferredWrites], None]) -> None:
    """``method`` of the object, if it still exists (fork and exit hooks keep no app alive)."""
    found = own()
    if found is not None:
        method(found)
