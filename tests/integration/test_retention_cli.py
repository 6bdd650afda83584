"""``consent-service retention show|table|run``."""

from __future__ import annotations

import sqlalchemy as sa

from consent_service.models import DecisionLogEntry
from tests.integration import retention_support as history
from tests.integration.retention_support import YEAR


def test_show_prints_the_schedule_in_force(app):
    shown = app.test_cli_runner().invoke(args=["retention", "show"])
    assert shown.exit_code == 0, shown.output
    assert "| `decision_log` | decision_log | 6 months |" in shown.output


def test_run_with_now_deletes_what_is_past_then_and_prints_counts(app, session):
    pid = history.demo_property(session).id
    history.decision_log(session, pid, history.policy_in_effect_since(session))
    session.commit()
    later = (history.policy_in_effect_since(session) + 2 * YEAR).strftime("%Y-%m-%dT%H:%M:%S")
    ran = app.test_cli_runner().invoke(args=["retention", "run", "--now", later])
    assert ran.exit_code == 0, ran.output
    assert "decision_log: 1" in ran.output
    assert session.scalar(sa.select(sa.func.count()).select_from(DecisionLogEntry)) == 0


def test_run_with_a_now_that_is_not_a_time_is_refused(app):
    ran = app.test_cli_runner().invoke(args=["retention", "run", "--now", "tomorrow"])
    assert ran.exit_code == 2
    assert "tomorrow" in ran.output
