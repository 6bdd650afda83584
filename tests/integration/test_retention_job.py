"""The retention job over a history spanning every period (time injected): what is past its
period goes, what is not stays, chains go whole, a second run does nothing, and each run that
deleted something says how much (never what) in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from consent_service.consent.verification import verify_receipts
from consent_service.extensions import vault
from consent_service.infra.times import rfc3339_seconds
from consent_service.models import AuditEntry
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import DecisionLogEntry
from consent_service.models import ErasureRequest
from consent_service.models import IdentityTokenUse
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import ScanReport
from consent_service.models import Subject
from consent_service.models import WebSession
from consent_service.retention.job import ACTION
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from tests.integration import retention_support as history
from tests.integration.retention_support import DAY
from tests.integration.retention_support import YEAR

SCHEDULE = schedule_for({})


@pytest.fixture
def now(session) -> dt.datetime:
    """Twelve years after the demo policy took effect: every history below fits after it."""
    return history.policy_in_effect_since(session) + 12 * YEAR


def run(session, schedule=SCHEDULE, *, now, batch_size=1000):
    return run_retention(
        session, schedule, now=now, person_keys=vault().people, batch_size=batch_size
    )


def receipts_of(session, subject):
    return session.scalar(sa.select(sa.func.count()).where(ConsentReceipt.subject_id == subject))


def exists(session, model, key) -> bool:
    return session.get(model, key) is not None


def test_a_chain_whose_every_receipt_is_past_its_period_goes_whole(session, issuer, now):
    # FR: 180-day consent, then 5 years (Code civil art. 2224).
    old = history.chain(session, issuer, region="FR", at=[now - 7 * YEAR, now - 6 * YEAR])
    report = run(session, now=now)
    assert receipts_of(session, old) == 0
    assert session.scalar(sa.select(sa.func.count()).where(ConsentState.subject_id == old)) == 0
    subject = session.get(Subject, old)
    assert subject.purged_at == now
    assert report.counts["receipts"] == 1
    assert report.counts["receipts_deleted"] == 2


def test_a_chain_with_one_receipt_still_in_its_period_stays_whole(session, issuer, now):
    kept = history.chain(session, issuer, region="FR", at=[now - 9 * YEAR, now - 2 * YEAR])
    run(session, now=now)
    assert receipts_of(session, kept) == 2
    assert session.get(Subject, kept).purged_at is None


def test_receipts_keep_the_limitation_of_their_own_jurisdiction(session, issuer, now):
    # 5.5 years after expiry: past FR's 5 years, within GB's 6.
    at = now - 5 * YEAR - 180 * DAY - 182 * DAY
    french = history.chain(session, issuer, region="FR", at=[at])
    british = history.chain(session, issuer, region="GB", at=[at])
    run(session, now=now)
    assert receipts_of(session, french) == 0
    assert receipts_of(session, british) == 1


def test_a_standing_opt_out_where_the_law_is_opt_out_is_kept(session, issuer, now):
    # Without it a look-up about this Californian would answer opt_out_default again.
    opted_out = history.chain(session, issuer, region="US-CA", at=[now - 12 * YEAR], granted=False)
    refused_in_eu = history.chain(session, issuer, region="FR", at=[now - 12 * YEAR], granted=False)
    run(session, now=now)
    assert receipts_of(session, opted_out) == 1
    assert receipts_of(session, refused_in_eu) == 0


def test_an_erased_persons_standing_opt_out_goes_after_its_period(session, issuer, now):
    erased = history.chain(session, issuer, region="US-CA", at=[now - 12 * YEAR], granted=False)
    session.get(Subject, erased).erased_at = now - 11 * YEAR
    session.flush()
    run(session, now=now)
    assert receipts_of(session, erased) == 0


def test_the_chains_that_remain_still_verify(session, issuer, now):
    history.chain(session, issuer, region="FR", at=[now - 8 * YEAR, now - 7 * YEAR])
    kept = [
        history.chain(session, issuer, region="FR", at=[now - 8 * YEAR, now - 30 * DAY]),
        history.chain(session, issuer, region="GB", at=[now - 3 * YEAR, now - 2 * YEAR]),
    ]
    run(session, now=now)
    for subject in kept:
        report = verify_receipts(session, subject_id=subject)
        assert report.ok, report.breaks
        assert report.receipts == 2
    assert verify_receipts(session).ok


def test_a_purged_subjects_visitor_id_is_replaced_so_a_returning_browser_starts_afresh(
    session, issuer, now
):
    old = history.chain(session, issuer, region="FR", at=[now - 7 * YEAR])
    visitor = session.get(Subject, old).visitor_id
    run(session, now=now)
    session.expire_all()
    assert session.get(Subject, old).visitor_id != visitor


def test_each_kind_goes_after_its_period_and_not_before(session, now):
    pid = history.demo_property(session).id
    past = {
        DecisionLogEntry: history.decision_log(session, pid, now - 7 * 31 * DAY),
        OutboxMessage: history.outbox(session, pid, status="delivered", at=now - 31 * DAY),
        MagicLink: history.magic_link(session, pid, now - 8 * DAY),
        WebSession: history.web_session(session, now - 2 * DAY),
        IdentityTokenUse: (pid, history.token_use(session, pid, now - DAY)),
        ErasureRequest: history.erasure_record(session, pid, now - 3 * YEAR - 2 * DAY),
        AuditEntry: history.audit_entry(session, now - 3 * YEAR - 2 * DAY),
    }
    dead_past = history.outbox(session, pid, status="dead", at=now - 91 * DAY)
    within = {
        DecisionLogEntry: history.decision_log(session, pid, now - 5 * 30 * DAY),
        OutboxMessage: history.outbox(session, pid, status="delivered", at=now - 29 * DAY),
        MagicLink: history.magic_link(session, pid, now - 6 * DAY),
        WebSession: history.web_session(session, now - DAY / 2),
        IdentityTokenUse: (pid, history.token_use(session, pid, now + DAY)),
        ErasureRequest: history.erasure_record(session, pid, now - 2 * YEAR),
        AuditEntry: history.audit_entry(session, now - 2 * YEAR),
    }
    dead_within = history.outbox(session, pid, status="dead", at=now - 80 * DAY)
    pending_old = history.outbox(session, pid, status="pending", at=now - 5 * YEAR)
    report = run(session, now=now)
    session.expire_all()
    for model, key in past.items():
        assert not exists(session, model, key), model.__name__
    for model, key in within.items():
        assert exists(session, model, key), model.__name__
    assert not exists(session, OutboxMessage, dead_past)
    assert exists(session, OutboxMessage, dead_within)
    assert exists(session, OutboxMessage, pending_old)  # never deleted before it is sent
    assert report.counts == {
        "decision_log": 1,
        "outbox_delivered": 1,
        "outbox_dead": 1,
        "magic_links": 1,
        "web_sessions": 1,
        "identity_token_uses": 1,
        "erasure_records": 1,
        "audit_log": 1,
    }


def test_a_second_run_at_the_same_time_does_nothing_and_records_nothing(session, issuer, now):
    pid = history.demo_property(session).id
    history.chain(session, issuer, region="FR", at=[now - 7 * YEAR])
    history.decision_log(session, pid, now - YEAR)
    first = run(session, now=now)
    entries = session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == ACTION))
    second = run(session, now=now)
    assert first.deleted > 0
    assert second.counts == {}
    assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == ACTION)) == entries


def test_the_audit_entry_holds_counts_per_kind_and_never_the_data(session, now):
    pid = history.demo_property(session).id
    for _ in range(3):
        history.decision_log(session, pid, now - YEAR)
    run(session, now=now)
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == ACTION))
    assert entry.at == now
    assert entry.actor == "system:retention"
    assert entry.after == {"counts": {"decision_log": 3}, "now": rfc3339_seconds(now)}


def test_a_property_may_keep_its_decision_log_for_less(session, now):
    prop = history.demo_property(session)
    prop.retention_overrides = {"decision_log": "P30D"}
    month_and_a_half = history.decision_log(session, prop.id, now - 45 * DAY)
    run(session, now=now)
    assert not exists(session, DecisionLogEntry, month_and_a_half)


def test_the_operators_setting_lengthens_a_period(session, now):
    pid = history.demo_property(session).id
    year_old = history.decision_log(session, pid, now - YEAR)
    run(session, schedule_for({"decision_log": "P2Y"}), now=now)
    assert exists(session, DecisionLogEntry, year_old)


def test_batches_never_hold_more_than_the_batch_size(session, now):
    pid = history.demo_property(session).id
    for _ in range(7):
        history.decision_log(session, pid, now - YEAR)
    report = run(session, batch_size=3, now=now)
    assert report.counts["decision_log"] == 7
    assert report.largest_batch == 3


@pytest.mark.parametrize("kind", ["magic_links", "audit_log"])
def test_nothing_goes_when_nothing_is_past(session, kind, now):
    pid = history.demo_property(session).id
    history.magic_link(session, pid, now)
    history.audit_entry(session, now - DAY)
    assert kind not in run(session, now=now).counts


def test_scan_reports_go_after_their_period_but_each_propertys_newest_stays(session, now):
    pid = history.demo_property(session).id
    oldest = history.scan_report(session, pid, started_at=now - 5 * YEAR)
    newest = history.scan_report(session, pid, started_at=now - 4 * YEAR)
    running = history.scan_report(session, pid, started_at=now - 6 * YEAR, finished=False)
    assert run(session, now=now).counts["scan_reports"] == 1
    session.expire_all()
    assert not exists(session, ScanReport, oldest)
    assert exists(session, ScanReport, newest)  # past its period, but the property's newest
    assert exists(session, ScanReport, running)  # not finished: nothing to judge yet
    recent = history.scan_report(session, pid, started_at=now - YEAR)
    assert run(session, now=now).counts["scan_reports"] == 1
    session.expire_all()
    assert not exists(session, ScanReport, newest)
    assert exists(session, ScanReport, recent)


def test_a_run_stopped_halfway_keeps_what_it_did_and_the_next_finishes(session, now):
    pid = history.demo_property(session).id
    for _ in range(7):
        history.decision_log(session, pid, now - YEAR)
    calls = 0

    class Stopped(Exception):
        pass

    def clock_that_dies() -> float:
        """Two calls per transaction: the receipts' and the customers' steps take one each,
        then two decision-log batches commit; the worker dies before the third."""
        nonlocal calls
        calls += 1
        if calls > 8:
            raise Stopped
        return 0.0

    with pytest.raises(Stopped):
        run_retention(
            session,
            SCHEDULE,
            now=now,
            person_keys=vault().people,
            batch_size=3,
            monotonic=clock_that_dies,
        )
    left = sa.select(sa.func.count()).select_from(DecisionLogEntry)
    assert session.scalar(left) == 1  # two batches of three committed before it stopped
    assert run(session, now=now, batch_size=3).counts["decision_log"] == 1
    assert session.scalar(left) == 0
