"""The database still refuses what the retention job may not do: receipts are never updated,
deleted only as a purged subject's chain; audit entries are never updated, deleted only below
the cutoff the job arms in its own transaction."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from consent_service.models import AuditEntry
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import RetentionCutoff
from consent_service.models import Subject
from tests.integration import retention_support as history
from tests.integration.retention_support import YEAR


@pytest.fixture
def subject(session, issuer):
    at = history.policy_in_effect_since(session)
    return history.chain(session, issuer, region="FR", at=[at, at + YEAR])


def refused(session, statement) -> bool:
    savepoint = session.begin_nested()
    try:
        session.execute(statement)
    except DBAPIError:
        savepoint.rollback()
        return True
    savepoint.rollback()
    return False


def cutoff_2020(session, *, armed: bool) -> None:
    """The audit log's cutoff at 2020-01-01, as the job leaves it (disarmed) or arms it."""
    at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    session.merge(RetentionCutoff(kind="audit_log", cutoff=at, armed=armed, applied_at=at))
    session.flush()


def test_a_receipt_of_a_subject_not_purged_cannot_be_deleted(session, subject):
    session.execute(sa.delete(ConsentState).where(ConsentState.subject_id == subject))
    assert refused(session, sa.delete(ConsentReceipt).where(ConsentReceipt.subject_id == subject))


def test_a_receipt_cannot_be_updated_even_once_its_subject_is_purged(session, subject):
    session.get(Subject, subject).purged_at = dt.datetime.now(dt.UTC)
    session.flush()
    statement = (
        sa.update(ConsentReceipt).where(ConsentReceipt.subject_id == subject).values(method="x")
    )
    assert refused(session, statement)


def test_a_purged_subjects_receipts_can_be_deleted(session, subject):
    session.get(Subject, subject).purged_at = dt.datetime.now(dt.UTC)
    session.flush()
    session.execute(sa.delete(ConsentState).where(ConsentState.subject_id == subject))
    assert not refused(
        session, sa.delete(ConsentReceipt).where(ConsentReceipt.subject_id == subject)
    )


def test_an_audit_entry_cannot_be_deleted_without_an_armed_cutoff(session):
    old = history.audit_entry(session, dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    cutoff_2020(session, armed=False)
    assert refused(session, sa.delete(AuditEntry).where(AuditEntry.id == old))


def test_an_audit_entry_younger_than_the_armed_cutoff_cannot_be_deleted(session):
    young = history.audit_entry(session, dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
    old = history.audit_entry(session, dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    cutoff_2020(session, armed=True)
    assert refused(session, sa.delete(AuditEntry).where(AuditEntry.id == young))
    assert not refused(session, sa.delete(AuditEntry).where(AuditEntry.id == old))


def test_an_audit_entry_can_never_be_updated(session):
    old = history.audit_entry(session, dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    cutoff_2020(session, armed=True)
    assert refused(session, sa.update(AuditEntry).where(AuditEntry.id == old).values(action="x"))


def test_the_job_leaves_the_audit_cutoff_disarmed(session):
    from consent_service.extensions import vault
    from consent_service.retention.job import run_retention
    from consent_service.retention.schedule import schedule_for

    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    history.audit_entry(session, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    run_retention(session, schedule_for({}), now=now, person_keys=vault().people)
    cutoff = session.get(RetentionCutoff, "audit_log")
    assert cutoff is not None and cutoff.armed is False
    assert cutoff.cutoff == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
