"""Bulk synthetic consent data for look-up benchmarks: N customers, each with one browser,
one receipt and a state row per purpose, inserted in large batches straight through Core.

The receipts carry a placeholder instead of a signature: look-ups never read receipts, and
signing a million of them would measure the seeding, not the look-up.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.infra.database import begin_write
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import Identity
from consent_service.models import PolicyVersion
from consent_service.models import Purpose
from consent_service.models import SigningKeyRecord
from consent_service.models import Subject
from consent_service.models.base import new_id
from consent_service.models.base import table_of
from consent_service.properties.lookup import get_property

BATCH = 5000
SEEDED_PURPOSES = ("analytics", "marketing")


def customer_ref(i: int) -> str:
    return f"bench-{i}"


def seed_customers(app: Flask, start: int, stop: int) -> None:
    """Customers ``start`` .. ``stop - 1``: even ones granted marketing, odd ones refused it."""
    with app.app_context():
        session = db.session()
        # A write transaction from the start: on SQLite a read one could not turn into a
        # write once the look-up log's thread had written since it began.
        begin_write(session)
        prop = get_property(session, "demo-shop")
        vault = app.extensions["vault"]
        purposes = {
            p.key: p.id
            for p in session.scalars(sa.select(Purpose).where(Purpose.property_id == prop.id))
        }
        version = session.scalars(
            sa.select(PolicyVersion)
            .where(PolicyVersion.number == 2)
            .order_by(PolicyVersion.id.desc())
            .limit(1)
        ).one()
        kid = session.scalars(sa.select(SigningKeyRecord.kid).limit(1)).one()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        expires = now + dt.timedelta(days=180)
        connection = session.connection()
        for batch_start in range(start, stop, BATCH):
            identities, subjects, receipts, states = [], [], [], []
            for i in range(batch_start, min(batch_start + BATCH, stop)):
                identity_id, subject_id, receipt_id = new_id(), new_id(), new_id()
                decisions = {
                    "analytics": "granted",
                    "marketing": "granted" if i % 2 == 0 else "denied",
                }
                identities.append(
                    {
                        "id": identity_id,
                        "property_id": prop.id,
                        # As the service writes them: found by blind index (the sealed
                        # reference is not read by look-ups, so it is left out here).
                        "customer_ref_index": vault.customer_index(prop.id, customer_ref(i)),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                subjects.append(
                    {
                        "id": subject_id,
                        "property_id": prop.id,
                        "visitor_id": uuid.uuid4(),
                        "identity_id": identity_id,
                        "created_at": now,
                    }
                )
                receipts.append(
                    {
                        "id": receipt_id,
                        "property_id": prop.id,
                        "subject_id": subject_id,
                        "seq": 1,
                        "policy_version_id": version.id,
                        "policy_sha256": version.sha256,
                        "jurisdiction": "FR",
                        "region": "FR",
                        "method": "custom",
                        "source": "bench",
                        "gpc": False,
                        "decisions": decisions,
                        "network": None,
                        "issued_at": now,
                        "expires_at": expires,
                        "prev_hash": None,
                        "kid": kid,
                        "jws": "bench-placeholder",
                        "jws_sha256": "0" * 64,
                    }
                )
                states.extend(
                    {
                        "subject_id": subject_id,
                        "purpose_id": purposes[key],
                        "property_id": prop.id,
                        "granted": decisions[key] == "granted",
                        "receipt_id": receipt_id,
                        "policy_version": 2,
                        "jurisdiction": "FR",
                        "method": "custom",
                        "gpc": False,
                        "given_at": now,
                        "expires_at": expires,
                    }
                    for key in SEEDED_PURPOSES
                )
            connection.execute(sa.insert(table_of(Identity)), identities)
            connection.execute(sa.insert(table_of(Subject)), subjects)
            connection.execute(sa.insert(table_of(ConsentReceipt)), receipts)
            connection.execute(sa.insert(table_of(ConsentState)), states)
            session.commit()
            begin_write(session)
            connection = session.connection()
        if db.engine.dialect.name == "postgresql":
            session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.exec_driver_sql("ANALYZE")
        else:
            session.execute(sa.text("ANALYZE"))
            session.commit()
        db.session.remove()
