"""The retention job over 1M decision-log rows and 100k outbox rows (``make bench``).

Seeds each table in bulk with one ``INSERT ... SELECT`` over a generated series (seconds, not
minutes), nine in ten rows past their period, then runs the job as the worker does and prints
its total time, its transactions and the longest one: the longest time it held a lock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.models import Property
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from tests.bench.databases import engines
from tests.bench.databases import prepared_app
from tests.support import shut_down

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PAST = "2028-01-01 00:00:00.000000"  # a year and more before NOW: past every default period
RECENT = "2029-12-31 00:00:00.000000"  # within them

_SERIES = {
    "sqlite": "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series "
    "WHERE n < :count) SELECT {columns} FROM series",
    "postgresql": "SELECT {columns} FROM generate_series(1, :count) AS series(n)",
}
_UUID = {"sqlite": "lower(hex(randomblob(16)))", "postgresql": "gen_random_uuid()"}


def _seed(app: Flask, log_rows: int, outbox_rows: int) -> None:
    with app.app_context():
        session = db.session()
        dialect = session.get_bind().dialect.name
        pid = session.scalar(sa.select(Property.id).where(Property.key == "demo-shop"))
        when = f"CASE WHEN n % 10 = 0 THEN '{RECENT}' ELSE '{PAST}' END"
        if dialect == "postgresql":
            when = f"({when})::timestamp"
        series = _SERIES[dialect]
        if dialect == "postgresql":
            # One statement seeds a million rows: on a busy machine it outlasts the service's
            # 30 s statement timeout, which bounds requests, not a bench's set-up.
            session.execute(sa.text("SET LOCAL statement_timeout = 0"))
        log_columns = (
            f"{_UUID[dialect]}, {pid}, {when}, '[\"marketing\"]', 1, 0, "
            '\'[["visitor:00000000-0000-4000-8000-000000000000", "marketing", false, '
            '"no_record"]]\''
        )
        session.execute(
            sa.text(
                "INSERT INTO decision_log (id, property_id, requested_at, purposes, item_count, "
                "allowed_count, answers) " + series.format(columns=log_columns)
            ),
            {"count": log_rows},
        )
        outbox_columns = (
            f"{_UUID[dialect]}, {pid}, 'webhook', 'consent.changed', "
            "'{\"subject\":\"customer:c-1\"}', 'delivered', 1, "
            f"{when}, {when}, {when}"
        )
        session.execute(
            sa.text(
                "INSERT INTO outbox (id, property_id, channel, event_type, payload, status, "
                "attempts, next_attempt_at, created_at, delivered_at) "
                + series.format(columns=outbox_columns)
            ),
            {"count": outbox_rows},
        )
        session.commit()
        if dialect == "postgresql":
            session.execute(sa.text("ANALYZE decision_log"))
            session.execute(sa.text("ANALYZE outbox"))
            session.commit()
        db.session.remove()


def bench(name: str, url: str, *, log_rows: int, outbox_rows: int, batch_size: int) -> None:
    app = prepared_app(url)
    try:
        started = time.perf_counter()
        _seed(app, log_rows, outbox_rows)
        seeded = time.perf_counter() - started
        with app.app_context():
            started = time.perf_counter()
            report = run_retention(
                db.session(),
                schedule_for({}),
                now=NOW,
                person_keys=app.extensions["vault"].people,
                batch_size=batch_size,
            )
            took = time.perf_counter() - started
            db.session.remove()
        print(
            f"{name:10} seeded {log_rows:,} decision-log + {outbox_rows:,} outbox rows in "
            f"{seeded:.1f} s; retention deleted {report.counts.get('decision_log', 0):,} + "
            f"{report.counts.get('outbox_delivered', 0):,} in {took:.1f} s "
            f"({report.transactions:,} transactions of at most {batch_size:,} rows; longest "
            f"transaction {report.longest_transaction * 1000:.0f} ms)"
        )
    finally:
        shut_down(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--outbox-rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    print("== retention job (tests/bench/retention.py)")
    for name, url in engines(args.pg_url):
        bench(
            name,
            url,
            log_rows=args.log_rows,
            outbox_rows=args.outbox_rows,
            batch_size=args.batch_size,
        )


if __name__ == "__main__":
    main()
