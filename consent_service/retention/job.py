"""The retention job: deletes what is past its period, a short transaction at a time.

Each step deletes at most ``batch_size`` rows of one kind (or the chains of at most
``batch_size`` subjects) in its own transaction and commits, so no lock is held for long and a
job stopped halfway has lost nothing: the next run carries on where it stopped (resumable), and
a run with nothing past its period changes nothing (idempotent). Several workers may run it at
once: on PostgreSQL each step claims its rows with ``FOR UPDATE SKIP LOCKED``; on SQLite the
step's transaction holds the write lock from its first statement. Counts are what was actually
deleted, so two workers never count a row twice.

Receipts go a subject's whole chain at a time, once every receipt in it is past its period: the
subject is marked purged (the receipts' trigger then allows the delete) and its visitor id
replaced, then its states and receipts are deleted. A customer none of whose browsers has a
receipt left goes after its own period: its person key is shredded in the key store first
(every backup's copy of its email and reference is unreadable from then on), then its row and
what hangs on it. The audit log's rows go only below the
cutoff the job arms in ``retention_cutoffs`` in the same transaction. Each run that deleted
anything writes one audit entry with the counts per kind (never the data).

Like the outbox worker, the job is a surface of its own: it commits after every step.
``now`` is injected; the job never reads the clock (``monotonic`` only times transactions).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.infra import audit
from consent_service.infra.database import begin_write
from consent_service.infra.database import commit_or_roll_back
from consent_service.infra.database import dialect_insert_for
from consent_service.infra.database import execute_core
from consent_service.infra.pii import PersonKeys
from consent_service.infra.times import rfc3339_seconds
from consent_service.jurisdictions.rulebook import jurisdiction_by_code
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import Regime
from consent_service.models import AuditEntry
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import DecisionLogEntry
from consent_service.models import EmailSubscription
from consent_service.models import ErasureRequest
from consent_service.models import Identity
from consent_service.models import IdentityTokenUse
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models import Property
from consent_service.models import RetentionCutoff
from consent_service.models import ScanReport
from consent_service.models import Subject
from consent_service.models import WebSession
from consent_service.models.base import table_of
from consent_service.retention.schedule import DEFAULT_CODE
from consent_service.retention.schedule import RECEIPTS
from consent_service.retention.schedule import Schedule

ACTOR = "system:retention"
IDENTITIES = "identities"
ACTION = "retention.purged"
DEFAULT_BATCH = 1000


@dataclasses.dataclass
class RetentionReport:
    """What one run deleted, per kind (``receipts``: receipts; ``receipt_chains``: subjects),
    how many transactions it took, the most rows (or chains) one of them deleted and the
    longest one (seconds)."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    transactions: int = 0
    largest_batch: int = 0
    longest_transaction: float = 0.0

    @property
    def deleted(self) -> int:
        return sum(self.counts.values())

    def add(self, kind: str, count: int) -> None:
        if count:
            self.counts[kind] = self.counts.get(kind, 0) + count


Step = Callable[[Session], dict[str, int]]


def run_retention(
    session: Session,
    schedule: Schedule,
    *,
    now: dt.datetime,
    person_keys: PersonKeys,
    batch_size: int = DEFAULT_BATCH,
    monotonic: Callable[[], float] = time.monotonic,
) -> RetentionReport:
    """Delete everything past its period at ``now``, committing after each batch; then, if
    anything went, one audit entry with the counts. ``person_keys``: the key store, whose keys
    of customers past their period are shredded."""
    report = RetentionReport()
    steps = _steps(session, schedule, now=now, batch_size=batch_size, person_keys=person_keys)
    for kind, step in steps:
        while True:
            started = monotonic()
            with commit_or_roll_back(session):
                begin_write(session)
                counts = step(session)
            report.transactions += 1
            report.longest_transaction = max(report.longest_transaction, monotonic() - started)
            for key, count in counts.items():
                report.add(key, count)
            report.largest_batch = max(report.largest_batch, counts.get(kind, 0))
            if counts.get(kind, 0) < batch_size:
                break
    if report.counts:
        with commit_or_roll_back(session):
            entry = audit.record(
                session,
                actor=ACTOR,
                action=ACTION,
                target_type="retention",
                target_id=None,
                before=None,
                after={"counts": dict(sorted(report.counts.items())), "now": rfc3339_seconds(now)},
            )
            entry.at = now
    return report


def _steps(
    session: Session,
    schedule: Schedule,
    *,
    now: dt.datetime,
    batch_size: int,
    person_keys: PersonKeys,
) -> Iterable[tuple[str, Step]]:
    """Each kind's batch step (per property for the kinds a property may set)."""
    pg = session.get_bind().dialect.name == "postgresql"
    with commit_or_roll_back(session):
        properties = session.execute(sa.select(Property.id, Property.retention_overrides)).all()

    def cutoff(key: str, overrides: dict[str, str] | None = None) -> dt.datetime:
        return schedule.period(key, overrides).before(now)

    yield RECEIPTS, lambda s: _purge_chains(s, schedule, now=now, limit=batch_size, pg=pg)
    identities_cutoff = cutoff(IDENTITIES)
    yield (
        IDENTITIES,
        lambda s: _purge_identities(
            s, person_keys, cutoff=identities_cutoff, now=now, limit=batch_size, pg=pg
        ),
    )
    for property_id, overrides in properties:
        of_property = (
            ("decision_log", DecisionLogEntry.property_id == property_id),
            ("outbox_delivered", OutboxMessage.property_id == property_id),
            ("outbox_dead", OutboxMessage.property_id == property_id),
            ("scan_reports", ScanReport.property_id == property_id),
        )
        for key, scope in of_property:
            at = cutoff(key, overrides)
            yield key, _deleting(key, _per_property_where(key, at, scope), batch_size, pg)
    simple = {
        "magic_links": MagicLink.expires_at < cutoff("magic_links"),
        "web_sessions": WebSession.idle_expires_at < cutoff("web_sessions"),
        "identity_token_uses": IdentityTokenUse.expires_at < cutoff("identity_token_uses"),
        "erasure_records": ErasureRequest.completed_at < cutoff("erasure_records"),
    }
    for key, where in simple.items():
        yield key, _deleting(key, where, batch_size, pg)
    audit_cutoff = cutoff("audit_log")
    yield "audit_log", lambda s: _purge_audit(s, audit_cutoff, now=now, limit=batch_size, pg=pg)


def _per_property_where(
    key: str, cutoff: dt.datetime, scope: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    if key == "decision_log":
        return sa.and_(scope, DecisionLogEntry.requested_at < cutoff)
    if key == "scan_reports":
        newer = table_of(ScanReport).alias("newer")
        return sa.and_(
            scope,
            ScanReport.finished_at < cutoff,
            # The property's newest scan stays whatever its age: the current evidence of what
            # its pages do, and the schedule's last run.
            sa.exists().where(
                newer.c.property_id == ScanReport.property_id,
                newer.c.started_at > ScanReport.started_at,
            ),
        )
    if key == "outbox_delivered":
        return sa.and_(
            scope,
            OutboxMessage.status == OutboxStatus.DELIVERED.value,
            OutboxMessage.delivered_at < cutoff,
        )
    return sa.and_(
        scope,
        OutboxMessage.status == OutboxStatus.DEAD.value,
        OutboxMessage.next_attempt_at < cutoff,
    )


_TABLES: dict[str, type[object]] = {
    "decision_log": DecisionLogEntry,
    "outbox_delivered": OutboxMessage,
    "outbox_dead": OutboxMessage,
    "scan_reports": ScanReport,
    "magic_links": MagicLink,
    "web_sessions": WebSession,
    "identity_token_uses": IdentityTokenUse,
    "erasure_records": ErasureRequest,
}


def _deleting(key: str, where: sa.ColumnElement[bool], limit: int, pg: bool) -> Step:
    """A step deleting up to ``limit`` rows matching ``where`` (by primary key; claimed with
    SKIP LOCKED on PostgreSQL, so concurrent jobs take different rows)."""
    table = table_of(_TABLES[key])  # type: ignore[arg-type]
    key_columns = list(table.primary_key.columns)
    target = key_columns[0] if len(key_columns) == 1 else sa.tuple_(*key_columns)
    claim = sa.select(*key_columns).where(where).limit(limit)
    if pg:
        claim = claim.with_for_update(skip_locked=True)
    statement = sa.delete(table).where(target.in_(claim))

    def step(session: Session) -> dict[str, int]:
        return {key: execute_core(session, statement).rowcount}

    return step


def _purge_chains(
    session: Session, schedule: Schedule, *, now: dt.datetime, limit: int, pg: bool
) -> dict[str, int]:
    """Purge up to ``limit`` subjects whose every receipt is past its period."""
    subjects = table_of(Subject)
    receipts = table_of(ConsentReceipt)
    states = table_of(ConsentState)
    claim = (
        sa.select(subjects.c.id)
        .where(
            subjects.c.purged_at.is_(None),
            sa.exists().where(receipts.c.subject_id == subjects.c.id),
            ~sa.exists().where(
                receipts.c.subject_id == subjects.c.id,
                receipts.c.expires_at >= _receipt_cutoff(schedule, receipts, now),
            ),
            ~_standing_refusal(subjects, states, now),
        )
        .limit(limit)
    )
    ids = _claimed(session, claim, of=subjects, pg=pg)
    if not ids:
        return {RECEIPTS: 0}
    # The customers these browsers leave: their own period counts from now.
    identities = table_of(Identity)
    execute_core(
        session,
        sa.update(identities)
        .where(
            identities.c.id.in_(
                sa.select(subjects.c.identity_id).where(
                    subjects.c.id.in_(ids), subjects.c.identity_id.is_not(None)
                )
            )
        )
        .values(updated_at=now),
    )
    # Marked purged first: the receipts' trigger allows their delete only then. The visitor id
    # is replaced so a returning browser starts a new subject, never one whose receipts the
    # trigger would let go.
    _mark_purged(session, ids, now)
    execute_core(session, sa.delete(states).where(states.c.subject_id.in_(ids)))
    deleted = execute_core(session, sa.delete(receipts).where(receipts.c.subject_id.in_(ids)))
    return {RECEIPTS: len(ids), "receipts_deleted": deleted.rowcount}


def _claimed(session: Session, claim: sa.Select[Any], *, of: sa.Table, pg: bool) -> list[Any]:
    """The ids ``claim`` selects, locked for this transaction: on PostgreSQL rows another job
    holds are skipped (SKIP LOCKED); SQLite's write lock, taken already, serialises jobs."""
    if pg:
        claim = claim.with_for_update(of=of, skip_locked=True)
    return list(execute_core(session, claim).scalars())


def _mark_purged(session: Session, subject_ids: list[uuid.UUID], now: dt.datetime) -> None:
    """Mark these subjects purged, unlinked, their visitor ids replaced by random ones."""
    subjects = table_of(Subject)
    execute_core(
        session,
        sa.update(subjects)
        .where(subjects.c.id == sa.bindparam("subject"))
        .values(purged_at=now, identity_id=None, visitor_id=sa.bindparam("tombstone")),
        [{"subject": subject, "tombstone": uuid.uuid4()} for subject in subject_ids],
    )


def _purge_identities(
    session: Session,
    person_keys: PersonKeys,
    *,
    cutoff: dt.datetime,
    now: dt.datetime,
    limit: int,
    pg: bool,
) -> dict[str, int]:
    """Delete up to ``limit`` customers unchanged since ``cutoff`` whom nothing keeps: no
    browser of theirs has a receipt, no erasure record names them, no message to them is
    pending, no email list they chose to receive, no sign-in link or session of theirs is on
    record (those go after their own periods, and a customer signing in stays). Their keys are
    shredded first, in the key store's own transaction: should this one then fail, the rows
    left read as erased and the next run deletes them."""
    identities = table_of(Identity)
    subjects = table_of(Subject)
    receipts = table_of(ConsentReceipt)
    outbox = table_of(OutboxMessage)
    lists = table_of(EmailSubscription)
    erasures = table_of(ErasureRequest)
    links = table_of(MagicLink)
    sessions = table_of(WebSession)
    claim = (
        sa.select(identities.c.id)
        .where(
            identities.c.updated_at < cutoff,
            ~sa.exists().where(
                subjects.c.identity_id == identities.c.id,
                sa.exists().where(receipts.c.subject_id == subjects.c.id),
            ),
            ~sa.exists().where(erasures.c.identity_id == identities.c.id),
            ~sa.exists().where(
                outbox.c.identity_id == identities.c.id,
                outbox.c.status == OutboxStatus.PENDING.value,
            ),
            ~sa.exists().where(
                lists.c.identity_id == identities.c.id, lists.c.subscribed.is_(True)
            ),
            ~sa.exists().where(links.c.identity_id == identities.c.id),
            ~sa.exists().where(sessions.c.identity_id == identities.c.id),
        )
        .limit(limit)
    )
    ids = _claimed(session, claim, of=identities, pg=pg)
    if not ids:
        return {IDENTITIES: 0}
    shredded = person_keys.shred_all(ids)
    # Their browsers that never chose anything: unlinked and marked purged, like a chain.
    never_chose = list(
        execute_core(
            session, sa.select(subjects.c.id).where(subjects.c.identity_id.in_(ids))
        ).scalars()
    )
    if never_chose:
        _mark_purged(session, never_chose, now)
    # Their list choices (refusals: no address is left to send to) and settled emails.
    for table in (lists, outbox):
        execute_core(session, sa.delete(table).where(table.c.identity_id.in_(ids)))
    deleted = execute_core(session, sa.delete(identities).where(identities.c.id.in_(ids)))
    return {IDENTITIES: deleted.rowcount, "person_keys_shredded": shredded}


def _receipt_cutoff(
    schedule: Schedule, receipts: sa.Table, now: dt.datetime
) -> sa.ColumnElement[dt.datetime]:
    """Per receipt, by its jurisdiction: it is past its period if it expired before this."""
    column_type = receipts.c.expires_at.type
    whens = {
        code: sa.literal(limitation.cutoff(now), column_type)
        for code, limitation in schedule.limitations.items()
        if code != DEFAULT_CODE
    }
    default = sa.literal(schedule.limitation(DEFAULT_CODE).cutoff(now), column_type)
    return sa.case(whens, value=receipts.c.jurisdiction, else_=default)


def _standing_refusal(
    subjects: sa.Table, states: sa.Table, now: dt.datetime
) -> sa.ColumnElement[bool]:
    """A current refusal or GPC opt-out under a jurisdiction that is not opt-in, of a subject
    not erased: there, without it, a look-up would answer opt_out_default."""
    opt_out = [
        code
        for code in rulebook()
        if jurisdiction_by_code(code, on=now.date()).regime is not Regime.OPT_IN
    ]
    return sa.and_(
        subjects.c.erased_at.is_(None),
        sa.exists().where(
            states.c.subject_id == subjects.c.id,
            states.c.jurisdiction.in_(opt_out),
            sa.or_(states.c.granted.is_(False), states.c.gpc.is_(True)),
        ),
    )


def _purge_audit(
    session: Session, cutoff: dt.datetime, *, now: dt.datetime, limit: int, pg: bool
) -> dict[str, int]:
    """Arm the audit log's cutoff, delete up to ``limit`` entries older than it, disarm: all in
    this transaction, so no other transaction ever finds it armed."""
    cutoffs = table_of(RetentionCutoff)
    entries = table_of(AuditEntry)
    dialect = session.get_bind().dialect.name
    arm = dialect_insert_for(dialect, cutoffs).values(
        kind="audit_log", cutoff=cutoff, armed=True, applied_at=now
    )
    arm = arm.on_conflict_do_update(
        index_elements=[cutoffs.c.kind],
        set_={"cutoff": cutoff, "armed": True, "applied_at": now},
    )
    execute_core(session, arm)
    claim = sa.select(entries.c.id).where(entries.c.at < cutoff).limit(limit)
    if pg:
        claim = claim.with_for_update(skip_locked=True)
    deleted = execute_core(session, sa.delete(entries).where(entries.c.id.in_(claim))).rowcount
    execute_core(
        session, sa.update(cutoffs).where(cutoffs.c.kind == "audit_log").values(armed=False)
    )
    return {"audit_log": deleted}
