"""A lock shared by every process on one machine, whose waiter wakes the moment it is free.

SQLite orders writers of different processes with its database file's lock, but a writer
that finds it taken waits in SQLite's busy handler, which sleeps 1, 2, 5 ... up to 100 ms
between tries. The writers of the process holding it hand it on at once (they queue on an
in-process lock), so another process's writer could wait through many of them: measured
with ``make run``'s 2 processes x 4 threads, first-time consents had a p99 of 440-650 ms
against 23 ms from one process of 8 threads.

:class:`FileLock` is ``flock(2)`` on a file beside the database. The kernel wakes a blocked
``flock`` the moment the holder lets go, and drops a dead process's lock with it. A writer
first tries without blocking (a free lock costs one system call); finding it taken, it
leaves the wait to its process's one waiter thread, which blocks in ``flock`` on behalf of
the process's writers, because a blocked ``flock`` cannot be given a time limit: the writer
waits on that thread for at most its own limit, and a lock the thread gets after the writer
gave up is let go at once (or handed to the writer that asks next). Callers must already be
one at a time within the process (the in-process write lock of ``infra.database``).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class FileLock:
    """``acquire(timeout)`` / ``release()`` of an exclusive lock on ``path`` (created if
    missing) across processes; one caller at a time per process (see the module's doc).

    Only fairness rests on it: SQLite's own lock still keeps writers apart, so a writer that
    loses its place to ``close()`` (``engine.dispose()``) loses nothing else.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._generation = 0
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # A forked child shares its parent's open file, and so its lock: it opens its own
        # (and has no waiter thread: it starts one).
        self._state = threading.Condition()
        self._fd: int | None = None
        self._wanted = False  # a writer of this process waits for the lock
        self._held = False  # this process holds it (on behalf of that writer)
        self._generation += 1

    def acquire(self, timeout: float) -> bool:
        """Whether the lock was taken within ``timeout`` seconds."""
        with self._state:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                threading.Thread(
                    target=self._wait_for_lock,
                    args=(self._fd, self._generation),
                    name="file lock",
                    daemon=True,
                ).start()
            try:  # free: taken at once, without the waiter thread
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                self._held = True
                return True
            self._wanted = True
            self._state.notify_all()
            taken = self._state.wait_for(lambda: self._held, timeout)
            self._wanted = False
            return taken

    def release(self) -> None:
        with self._state:
            if self._held and self._fd is not None:
                self._held = False
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Stop the waiter thread and close the file; the next ``acquire`` opens it again."""
        with self._state:
            fd, self._fd = self._fd, None
            self._wanted = self._held = False
            self._generation += 1
            self._state.notify_all()
        if fd is not None:
            os.close(fd)  # which lets go of the lock, if this process held it

    def _wait_for_lock(self, fd: int, generation: int) -> None:
        """The waiter thread: block in ``flock`` whenever a writer wants the lock, until the
        file it was started for is closed."""
        state = self._state

        def wanted_or_closed() -> bool:
            return self._generation != generation or (self._wanted and not self._held)

        while True:
            with state:
                state.wait_for(wanted_or_closed)
                if self._generation != generation:
                    return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL
            except OSError:  # closed under it
                return
            with state:
                if self._generation != generation:
                    return
                if self._held:  # a writer took it meanwhile, on this same file: it is theirs
                    continue
                if self._wanted:
                    self._held = True
                    state.notify_all()
                else:  # the writer gave up meanwhile
                    fcntl.flock(fd, fcntl.LOCK_UN)
