"""Two retention jobs at once on a real database with real commits (threads, each with its
own connection): every row goes exactly once, nobody fails, nothing is counted twice (each
customer's key shredded by one of them), and the chains that remain still verify."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from consent_service.consent.verification import verify_receipts
from consent_service.extensions import db
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import link_identity
from consent_service.models import AuditEntry
from consent_service.models import DecisionLogEntry
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from consent_service.retention.job import ACTION
from consent_service.retention.job import RetentionReport
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from tests.integration import retention_support as history
from tests.integration.retention_support import DAY
from tests.integration.retention_support import YEAR
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

LOG_ROWS = 400
OUTBOX_ROWS = 150
OLD_CHAINS = 40
CUSTOMERS = 30


@pytest.fixture
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("retention-workers")
    url = own_database_url(instance, "retention_workers")
    app = started_on_fresh_database(make_settings(instance, url))
    yield app
    shut_down(app)


def test_two_jobs_at_once_delete_each_row_once_without_error(live_app: Flask) -> None:
    with live_app.app_context():
        session = db.session()
        issuer = live_app.extensions["receipt_issuer"]
        start = history.policy_in_effect_since(session)
        now = start + 12 * YEAR
        pid = history.demo_property(session).id
        for _ in range(OLD_CHAINS):
            history.chain(session, issuer, region="FR", at=[start, start + DAY])
        kept = history.chain(session, issuer, region="FR", at=[start, now - DAY])
        session.execute(
            sa.insert(DecisionLogEntry),
            [
                dict(
                    property_id=pid,
                    requested_at=now - YEAR,
                    purposes=["ads"],
                    item_count=1,
                    allowed_count=0,
                    answers=[],
                )
                for _ in range(LOG_ROWS)
            ],
        )
        for _ in range(OUTBOX_ROWS):
            history.outbox(session, pid, status="delivered", at=now - YEAR)
        vault = live_app.extensions["vault"]
        customers = [
            link_identity(
                session, vault, pid, Claims(f"c-{n}", None), visitor_id=uuid.uuid4(), now=start
            ).identity_id
            for n in range(CUSTOMERS)
        ]
        session.commit()
        engine = db.engine
        keys = vault.people

        def job() -> RetentionReport:
            with Session(bind=engine) as own:
                return run_retention(
                    own, schedule_for({}), now=now, person_keys=keys, batch_size=25
                )

        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = list(pool.map(lambda _: job(), range(2)))

        def total(kind: str) -> int:
            return sum(report.counts.get(kind, 0) for report in reports)

        assert total("decision_log") == LOG_ROWS
        assert total("outbox_delivered") == OUTBOX_ROWS
        assert total("receipts") == OLD_CHAINS
        assert total("receipts_deleted") == 2 * OLD_CHAINS
        assert total("identities") == total("person_keys_shredded") == CUSTOMERS
        assert keys.keys_of(customers) == {}
        session.expire_all()
        count = sa.select(sa.func.count())
        assert session.scalar(count.select_from(DecisionLogEntry)) == 0
        assert session.scalar(count.select_from(OutboxMessage)) == 0
        assert session.scalar(count.select_from(Identity)) == 0
        entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == ACTION)).all()
        assert sum(e.after["counts"].get("decision_log", 0) for e in entries) == LOG_ROWS
        report = verify_receipts(session)
        assert report.ok and report.subjects >= 1
        assert verify_receipts(session, subject_id=kept).receipts == 2
        db.session.remove()
