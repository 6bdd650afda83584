"""Policy-notice campaigns: enqueue time for N customers (one INSERT ... SELECT in the publish
transaction) and worker throughput to a local SMTP sink (aiosmtpd), on SQLite and PostgreSQL.

    python -m tests.bench.campaigns [--customers 100000] [--seconds 10] [--pg-url URL]

Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.engine import make_url

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.extensions import db
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from consent_service.models.base import new_id
from consent_service.models.base import table_of
from consent_service.properties.lookup import get_property
from tests.bench import databases
from tests.support import settings_environment

BATCH = 5000


class CountingSink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 OK"


def seed(app: Flask, customers: int) -> None:
    with app.app_context():
        session = db.session()
        vault = app.extensions["vault"]
        prop = get_property(session, "demo-shop")
        now = dt.datetime.now(dt.UTC)
        table = table_of(Identity)
        locales = ("en", "de", "fr", None)
        for start in range(0, customers, BATCH):
            rows = []
            for i in range(start, min(start + BATCH, customers)):
                address = f"customer{i}@example.com"
                rows.append(
                    {
                        "id": new_id(),
                        "property_id": prop.id,
                        "customer_ref_index": vault.customer_index(prop.id, f"bench-{i}"),
                        "email_ciphertext": vault.cipher.encrypt(
                            address, context=f"email:{prop.id}"
                        ),
                        "email_index": vault.email_index(prop.id, address),
                        "locale": locales[i % 4],
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            session.execute(table.insert(), rows)
        session.commit()


def enqueue(app: Flask) -> tuple[float, int]:
    with app.app_context():
        session = db.session()
        document = get_document(session, "demo-shop", "privacy-policy")
        draft = create_draft(session, document, "# Policy\n\nBench.\n", material=True)
        session.commit()
        started = time.perf_counter()
        publish(session, draft)
        session.commit()
        elapsed = time.perf_counter() - started
        count = session.scalar(sa.select(sa.func.count()).where(OutboxMessage.channel == "email"))
        return elapsed, int(count or 0)


def throughput(app: Flask, workers: int, seconds: float) -> float:
    sink = CountingSink()
    with _socket_port() as port:
        pass
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = app.extensions["consent_settings"]
    env = {
        **os.environ,
        **settings_environment(settings),
        "CONSENT_SMTP_HOST": "127.0.0.1",
        "CONSENT_SMTP_PORT": str(port),
        "CONSENT_SMTP_RATE_LIMIT": "0",
        "CONSENT_LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    script = Path(sys.executable).with_name("consent-service")
    processes = [
        subprocess.Popen(
            [str(script), "worker", "--batch-size", "100", "--poll-interval", "0.1"], env=env
        )
        for _ in range(workers)
    ]
    try:
        while sink.count == 0:  # start-up is not throughput
            time.sleep(0.01)
        first, started = sink.count, time.perf_counter()
        time.sleep(seconds)
        sent, elapsed = sink.count - first, time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=120)
        controller.stop()
    return sent / elapsed


class _socket_port:
    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        return int(self._socket.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._socket.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; '<name>_campaign_bench' is used")
    args = parser.parse_args()
    engines = [("sqlite", databases.sqlite_url())]
    if args.pg_url:
        url = make_url(args.pg_url)
        engines.append(
            (
                "postgresql",
                url.set(database=f"{url.database}_campaign_bench").render_as_string(
                    hide_password=False
                ),
            )
        )
    for name, database_url in engines:
        app = databases.prepared_app(database_url)
        started = time.perf_counter()
        seed(app, args.customers)
        print(
            f"{name}: seeded {args.customers:,} customers in {time.perf_counter() - started:.1f} s"
        )
        elapsed, count = enqueue(app)
        print(f"{name}: publish + campaign of {count:,} recipients committed in {elapsed:.2f} s")
        counts = [1] if name == "sqlite" else [1, 2, 3]
        for workers in counts:
            rate = throughput(app, workers, args.seconds)
            print(f"{name}: {workers} worker(s): {rate:,.0f} messages/s to the SMTP sink")


if __name__ == "__main__":
    main()
