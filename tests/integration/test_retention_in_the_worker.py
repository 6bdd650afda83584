"""The worker runs the retention job between batches on its schedule: at start, then once the
interval has passed, never more often; a failing run does not stop the worker."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from consent_service.extensions import vault
from consent_service.messaging.worker import Chore
from consent_service.messaging.worker import Worker
from consent_service.models import DecisionLogEntry
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from tests.integration import retention_support as history
from tests.integration.retention_support import YEAR


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def log_rows(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(DecisionLogEntry))


def test_the_worker_runs_retention_at_start_and_again_after_its_interval(session):
    pid = history.demo_property(session).id
    now = history.policy_in_effect_since(session) + 2 * YEAR
    ticks = Ticks()
    runs: list[dt.datetime] = []

    def retention(own_session, at):
        runs.append(at)
        return run_retention(own_session, schedule_for({}), now=at, person_keys=vault().people)

    worker = Worker(
        session,
        {},
        clock=lambda: now,
        monotonic=ticks,
        chores=(Chore("retention", dt.timedelta(hours=1), retention),),
    )
    history.decision_log(session, pid, now - YEAR)
    worker.run_due_chores()
    assert log_rows(session) == 0
    history.decision_log(session, pid, now - YEAR)
    ticks.now = 3599
    worker.run_due_chores()
    assert log_rows(session) == 1  # not yet due
    ticks.now = 3600
    worker.run_due_chores()
    assert log_rows(session) == 0
    assert runs == [now, now]


def test_a_failing_retention_run_is_logged_and_tried_at_its_next_time(session, caplog):
    ticks = Ticks()
    calls = []

    def failing(own_session, at):
        calls.append(at)
        raise OperationalError("DELETE", {}, Exception("database is away"))

    worker = Worker(
        session,
        {},
        monotonic=ticks,
        chores=(Chore("retention", dt.timedelta(hours=1), failing),),
    )
    worker.run_due_chores()
    worker.run_due_chores()
    assert len(calls) == 1
    assert "chore retention failed" in caplog.text
