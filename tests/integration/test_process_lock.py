"""The writers' lock across processes (``infra.process_lock``): a waiter of another process
gets it once it is let go, a waiter gives up at its limit, a dead holder's lock is free, and
a forked child never shares its parent's."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from consent_service.infra.database import TimeLimits
from consent_service.infra.database import begin_write
from consent_service.infra.database import configure_engine
from consent_service.infra.process_lock import FileLock

# Long enough never to run out on a loaded machine; the tests wait on events, not on time.
PATIENT = 30.0
FORK = multiprocessing.get_context("fork")


class OtherProcess:
    """A process of its own running ``FileLock`` calls on ``path`` when told to."""

    def __init__(self, path: Path) -> None:
        self._orders: Any = FORK.Queue()
        self._answers: Any = FORK.Queue()
        self._process = FORK.Process(target=_serve, args=(path, self._orders, self._answers))
        self._process.start()

    def call(self, name: str, *args: object) -> object:
        self._orders.put((name, args))
        return self._answers.get(timeout=PATIENT)

    def start(self, name: str, *args: object) -> Callable[[], object]:
        """Start a call; the returned function waits for its answer."""
        self._orders.put((name, args))
        return lambda: self._answers.get(timeout=PATIENT)

    def die(self) -> None:
        self._orders.put(("die", ()))
        self._process.join(PATIENT)

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(PATIENT)


def _serve(path: Path, orders: Any, answers: Any) -> None:
    lock = FileLock(path)
    while True:
        name, args = orders.get()
        if name == "die":
            os._exit(0)  # holding the lock, without letting go of it
        answers.put(getattr(lock, name)(*args))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite-write-lock"


@pytest.fixture
def other(path: Path) -> Iterator[OtherProcess]:
    process = OtherProcess(path)
    yield process
    process.stop()


def test_a_waiter_of_another_process_gets_the_lock_once_it_is_let_go(path, other):
    lock = FileLock(path)
    assert lock.acquire(PATIENT)
    waited = other.start("acquire", PATIENT)
    lock.release()
    assert waited() is True


def test_a_waiter_gives_up_at_its_limit_while_another_process_holds_the_lock(path, other):
    assert other.call("acquire", PATIENT) is True
    assert FileLock(path).acquire(0.2) is False


def test_a_lock_taken_after_its_waiter_gave_up_goes_to_the_next_or_is_let_go(path, other):
    lock = FileLock(path)
    assert other.call("acquire", PATIENT) is True
    assert lock.acquire(0.1) is False  # the waiter thread stays blocked in flock
    other.call("release")
    assert lock.acquire(PATIENT)  # the next writer of this process gets it
    lock.release()
    assert other.call("acquire", PATIENT) is True  # and it was let go after


def test_a_lock_nobody_wanted_any_more_is_let_go(path, other):
    lock = FileLock(path)
    assert other.call("acquire", PATIENT) is True
    assert lock.acquire(0.1) is False
    other.call("release")
    assert other.call("acquire", PATIENT) is True  # this process's waiter did not keep it


def test_a_dead_holders_lock_is_free(path, other):
    assert other.call("acquire", PATIENT) is True
    other.die()
    assert FileLock(path).acquire(PATIENT)


def test_closing_lets_go_and_the_next_acquire_opens_the_file_again(path, other):
    lock = FileLock(path)
    assert lock.acquire(PATIENT)
    lock.close()
    assert other.call("acquire", PATIENT) is True
    other.call("release")
    assert lock.acquire(PATIENT)


def test_a_forked_child_takes_the_lock_for_itself_not_through_its_parent(path):
    lock = FileLock(path)
    assert lock.acquire(PATIENT)
    answers: Any = FORK.Queue()
    child = FORK.Process(target=lambda: answers.put(lock.acquire(0.2)))
    child.start()
    got = answers.get(timeout=PATIENT)
    child.join(PATIENT)
    assert got is False


def test_a_sqlite_writer_waiting_past_its_limit_on_another_process_is_refused(tmp_path):
    database = tmp_path / "db.sqlite"
    engine = sa.create_engine(f"sqlite:///{database}")
    configure_engine(engine, TimeLimits(connect=1, statement=0.2))
    holder = OtherProcess(Path(f"{database}-write-lock"))
    try:
        assert holder.call("acquire", PATIENT) is True
        with sa.orm.Session(engine) as session, pytest.raises(sa.exc.OperationalError) as raised:
            begin_write(session)
        assert "a writer of another process held it too long" in str(raised.value)
        holder.call("release")
        with sa.orm.Session(engine) as session:  # this process's own lock was let go too
            begin_write(session)
            session.execute(sa.text("CREATE TABLE t (n INTEGER)"))
            session.commit()
    finally:
        holder.stop()
        engine.dispose()
