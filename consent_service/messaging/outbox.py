"""The outbox's delivery engine: claim due messages, let a channel send them, settle the result.

Generic over channels (``webhook``, ``email``): a :class:`ChannelHandler` turns
claimed rows into send jobs while the claiming transaction is open (it may read what it
needs, such as an endpoint's URL and secret) and the jobs run after that transaction has
committed, so a slow receiver never holds a database lock.

Claiming takes a lease (``locked_until``) in one short transaction: ``FOR UPDATE SKIP LOCKED``
on PostgreSQL keeps concurrent workers off each other's rows; on SQLite ``BEGIN IMMEDIATE``
serialises claimers. The lease is short and renewed (:func:`renew`) while its worker is alive;
the exact ``locked_until`` value is the claim's token: a renewal, a settlement or a hand-back
only touches a row whose ``locked_until`` is still the value this worker wrote, so a worker
whose lease was taken over cannot overwrite what the new owner recorded. A worker killed
mid-batch loses nothing: its leases lapse within seconds and another worker sends the same
row again, under the same id (at least once).

Erasure reaches the outbox too (:func:`redact_payloads`): a settled payload naming an erased
person is rewritten without them at once; a pending one is still sent as it is (the receiver
needs it: ``subject.erased`` carries the customer reference the shop erases by) and rewritten
when it is settled, delivered or dead.

These functions never commit: the worker (a surface) commits after each step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
import random
import uuid
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.infra.database import begin_write
from consent_service.infra.database import execute_core
from consent_service.infra.database import keyset_batches
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models.base import new_id
from consent_service.models.base import table_of

log = logging.getLogger(__name__)

# Standard Webhooks' example schedule: the delay before attempt n+1 is SCHEDULE[n]; the first
# attempt is immediate. After the last attempt the message is dead (kept, visible, re-drivable).
SCHEDULE: tuple[dt.timedelta, ...] = (
    dt.timedelta(0),
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=14),
    dt.timedelta(hours=20),
    dt.timedelta(hours=24),
)
MAX_ATTEMPTS = len(SCHEDULE)
# +-20 %: receivers that failed together (an outage) are not all retried in the same second.
JITTER = 0.2
# A Retry-After beyond this is not honoured literally (a typo must not park a message for years).
MAX_RETRY_AFTER = dt.timedelta(hours=24)
_ERROR_LENGTH = 500


class Verdict(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # failed this time; try again on the schedule (dead after the last attempt)
    GIVE_UP = "give_up"  # can never succeed as it is (e.g. its endpoint was disabled)
    GONE = "gone"  # the receiver said it is gone for good: the channel reacts (410 for webhooks)
    # The channel itself could not be reached (SMTP connection refused, connect timeout):
    # nothing was sent, so the attempt does not count; the worker pauses the channel.
    UNREACHABLE = "unreachable"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one attempt came to, as a channel reports it (no database work in between)."""

    verdict: Verdict
    status: int | None = None
    error: str | None = None
    retry_after: dt.timedelta | None = None


@dataclasses.dataclass(frozen=True)
class ClaimedMessage:
    """A claimed row, detached from any session. ``lease`` proves the row is still ours."""

    id: uuid.UUID
    property_id: int
    channel: str
    endpoint_id: uuid.UUID | None
    event_type: str
    payload: str
    attempt: int  # this attempt's number, from 1
    lease: dt.datetime
    # Email rows: the campaign and the customer (None for webhooks).
    campaign_id: uuid.UUID | None = None
    identity_id: uuid.UUID | None = None


Send = Callable[[], Outcome]


class ChannelHandler(Protocol):
    """How one channel sends its messages."""

    def prepare(
        self, session: Session, messages: Sequence[ClaimedMessage]
    ) -> Mapping[uuid.UUID, Send | Outcome]:
        """A send job per message (run later, outside any transaction), or an outcome at once
        for a message that cannot be sent (its endpoint is gone, say)."""
        ...

    def gone(self, session: Session, message: ClaimedMessage, now: dt.datetime) -> None:
        """React, in the settling transaction, to a receiver that is gone for good."""
        ...


@dataclasses.dataclass(frozen=True)
class NewMessage:
    """A message to write: pending, due at once, its ``id`` the one receivers de-duplicate on."""

    property_id: int
    channel: str
    event_type: str
    payload: str
    endpoint_id: uuid.UUID | None = None
    identity_id: uuid.UUID | None = None
    id: uuid.UUID = dataclasses.field(default_factory=new_id)


def enqueue(session: Session, messages: Sequence[NewMessage], *, now: dt.datetime) -> None:
    """Write ``messages`` in the caller's transaction, due ``now``."""
    if not messages:
        return
    fresh = _fresh(now)
    rows = [
        {
            "id": message.id,
            "property_id": message.property_id,
            "channel": message.channel,
            "endpoint_id": message.endpoint_id,
            "identity_id": message.identity_id,
            "event_type": message.event_type,
            "payload": message.payload,
            **fresh,
        }
        for message in messages
    ]
    execute_core(session, sa.insert(table_of(OutboxMessage)), rows)


def enqueue_selected(
    session: Session,
    values: Mapping[str, object],
    where: Sequence[sa.ColumnElement[bool]],
    *,
    now: dt.datetime,
) -> sa.CursorResult[Any]:
    """Write one message per row ``where`` selects, in one INSERT ... SELECT: ``values`` names
    each message column as an expression over that row, or as a constant."""
    outbox = table_of(OutboxMessage)
    columns = {
        name: value
        if isinstance(value, sa.ColumnElement)
        else sa.literal(value, outbox.c[name].type)
        for name, value in {**values, **_fresh(now)}.items()
    }
    select = sa.select(*columns.values()).where(*where)
    return execute_core(session, outbox.insert().from_select(list(columns), select))


def _fresh(now: dt.datetime) -> dict[str, object]:
    """A new message's delivery state: pending, no attempt yet, due ``now``."""
    return {
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def claim_due(
    session: Session,
    *,
    channels: Collection[str],
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
) -> list[ClaimedMessage]:
    """Lease up to ``limit`` due messages of ``channels`` until ``now + lease``.

    Due: pending, ``next_attempt_at`` reached, and not leased (or the lease has lapsed). Each
    claim counts as an attempt, so a message that crashes every worker still runs out of
    attempts instead of looping for ever.
    """
    begin_write(session)
    outbox = table_of(OutboxMessage)
    query = (
        sa.select(
            outbox.c.id,
            outbox.c.property_id,
            outbox.c.channel,
            outbox.c.endpoint_id,
            outbox.c.event_type,
            outbox.c.payload,
            outbox.c.attempts,
            outbox.c.campaign_id,
            outbox.c.identity_id,
        )
        .where(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.next_attempt_at <= now,
            sa.or_(outbox.c.locked_until.is_(None), outbox.c.locked_until <= now),
            outbox.c.channel.in_(list(channels)),
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return []
    until = now + lease
    session.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_([row.id for row in rows]))
        .values(locked_until=until, attempts=outbox.c.attempts + 1)
    )
    return [
        ClaimedMessage(
            id=row.id,
            property_id=row.property_id,
            channel=row.channel,
            endpoint_id=row.endpoint_id,
            event_type=row.event_type,
            payload=row.payload,
            attempt=row.attempts + 1,
            lease=until,
            campaign_id=row.campaign_id,
            identity_id=row.identity_id,
        )
        for row in rows
    ]


def record_outcome(
    session: Session,
    message: ClaimedMessage,
    outcome: Outcome,
    *,
    handler: ChannelHandler,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> OutboxStatus | None:
    """Settle one attempt: delivered, rescheduled, or dead. None if the lease was lost
    (another worker owns the row now; what it records wins)."""
    begin_write(session)
    outbox = table_of(OutboxMessage)
    values: dict[str, object] = {
        "locked_until": None,
        "last_status": outcome.status,
        "last_error": _clip(outcome.error),
    }
    if outcome.verdict is Verdict.DELIVERED:
        status = OutboxStatus.DELIVERED
        values["delivered_at"] = now
        values["last_error"] = None
    elif outcome.verdict in (Verdict.RETRY, Verdict.UNREACHABLE) and message.attempt < MAX_ATTEMPTS:
        status = OutboxStatus.PENDING
        values["next_attempt_at"] = now + retry_delay(message.attempt, outcome.retry_after, rng)
    else:
        status = OutboxStatus.DEAD
    values["status"] = status.value
    result = execute_core(session, sa.update(outbox).where(_held(message)).values(values))
    if result.rowcount == 0:
        log.warning("outbox message %s: lease lost before its outcome was recorded", message.id)
        return None
    if status is not OutboxStatus.PENDING:
        _redact_if_asked(session, message.id, now)
    if outcome.verdict is Verdict.GONE:
        handler.gone(session, message, now)
    return status


def renew(
    session: Session, messages: Sequence[ClaimedMessage], *, now: dt.datetime, lease: dt.timedelta
) -> dict[uuid.UUID, ClaimedMessage]:
    """Extend the leases of ``messages`` to ``now + lease``; the renewed ones, with their new
    lease. A message missing from the answer is no longer ours (settled, or taken over after
    its lease lapsed): its worker must not send or settle it."""
    if not messages:
        return {}
    begin_write(session)
    outbox = table_of(OutboxMessage)
    until = now + lease
    renewed: dict[uuid.UUID, ClaimedMessage] = {}
    for message in messages:
        if until <= message.lease:
            renewed[message.id] = message  # a clock that did not move: nothing to extend
            continue
        result = execute_core(
            session,
            sa.update(outbox).where(_held(message)).values(locked_until=until),
        )
        if result.rowcount:
            renewed[message.id] = dataclasses.replace(message, lease=until)
    return renewed


def release(
    session: Session, messages: Sequence[ClaimedMessage], *, reason: str | None = None
) -> None:
    """Hand claimed but unattempted messages back at once (a worker stopping gracefully, a
    channel that cannot be reached), without counting the attempt never made; ``reason``
    is kept as the row's last error."""
    if not messages:
        return
    begin_write(session)
    outbox = table_of(OutboxMessage)
    values: dict[str, object] = {"locked_until": None, "attempts": outbox.c.attempts - 1}
    if reason is not None:
        values["last_error"] = _clip(reason)
    for message in messages:
        execute_core(session, sa.update(outbox).where(_held(message)).values(values))


def _held(message: ClaimedMessage) -> sa.ColumnElement[bool]:
    """The row is still pending under the lease this worker wrote (its claim token)."""
    outbox = table_of(OutboxMessage)
    return sa.and_(
        outbox.c.id == message.id,
        outbox.c.status == OutboxStatus.PENDING.value,
        outbox.c.locked_until == message.lease,
    )


def bury_pending(session: Session, *, endpoint_id: uuid.UUID, reason: str) -> int:
    """Mark every pending message to ``endpoint_id`` dead (kept and visible, not sent)."""
    outbox = table_of(OutboxMessage)
    result = execute_core(
        session,
        sa.update(outbox)
        .where(
            outbox.c.endpoint_id == endpoint_id,
            outbox.c.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.DEAD.value, locked_until=None, last_error=_clip(reason)),
    )
    return result.rowcount


def redrive(
    session: Session,
    *,
    now: dt.datetime,
    endpoint_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
) -> int:
    """Give the dead messages of an endpoint (or of an email campaign) a fresh set of
    attempts, due ``now``, with no lease left over. Same ids, so a receiver that did get one
    before de-duplicates it (and an email keeps its Message-ID)."""
    if (endpoint_id is None) == (campaign_id is None):
        raise TypeError("redrive an endpoint's or a campaign's messages")
    outbox = table_of(OutboxMessage)
    of = (
        outbox.c.endpoint_id == endpoint_id
        if endpoint_id is not None
        else outbox.c.campaign_id == campaign_id
    )
    result = execute_core(
        session,
        sa.update(outbox)
        .where(of, outbox.c.status == OutboxStatus.DEAD.value)
        .values(
            status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=now, locked_until=None
        ),
    )
    return int(result.rowcount)


REDACTED = "erased"
REDACT_BATCH_SIZE = 500


@dataclasses.dataclass(frozen=True)
class Redaction:
    redacted: int  # settled payloads rewritten now
    on_settle: int  # pending payloads to rewrite once settled


def redacted(payload: str, values: Collection[str]) -> str:
    """``payload`` (JSON) with every string equal to one of ``values`` replaced by REDACTED,
    wherever it is; minified as bodies are, keys in their order."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return REDACTED if value in values else value
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    return json.dumps(walk(json.loads(payload)), separators=(",", ":"), ensure_ascii=True)


def redact_payloads(
    session: Session,
    *,
    property_id: int,
    values: Collection[str],
    now: dt.datetime,
    batch_size: int = REDACT_BATCH_SIZE,
) -> Redaction:
    """Remove ``values`` (an erased person's customer reference, visitor and subject ids) from
    the property's outbox payloads: settled rows are rewritten now (``redacted_at``), pending
    ones are marked to be once settled (see the module). Batched by id; a pending row that a
    worker settles meanwhile is rewritten instead of marked."""
    wanted = {v for v in values if v}
    if not wanted:
        return Redaction(0, 0)
    outbox = table_of(OutboxMessage)
    names_one = sa.or_(*(outbox.c.payload.contains(json.dumps(v), autoescape=True) for v in wanted))
    now_redacted = on_settle = 0
    query = sa.select(
        outbox.c.id, outbox.c.payload, outbox.c.status, outbox.c.redact_on_settle
    ).where(outbox.c.property_id == property_id, names_one)
    for rows in keyset_batches(session, query, outbox.c.id, batch_size):
        for row in rows:
            rewritten = redacted(row.payload, wanted)
            if rewritten == row.payload:
                continue  # a LIKE match inside a longer string: not the person's value
            if row.status == OutboxStatus.PENDING.value:
                named = set(row.redact_on_settle or ()) | {
                    v for v in wanted if json.dumps(v) in row.payload
                }
                marked = execute_core(
                    session,
                    sa.update(outbox)
                    .where(outbox.c.id == row.id, outbox.c.status == OutboxStatus.PENDING.value)
                    .values(redact_on_settle=sorted(named)),
                )
                if marked.rowcount:
                    on_settle += 1
                    continue
            execute_core(
                session,
                sa.update(outbox)
                .where(outbox.c.id == row.id, outbox.c.status != OutboxStatus.PENDING.value)
                .values(payload=rewritten, redacted_at=now, redact_on_settle=sa.null()),
            )
            now_redacted += 1
    return Redaction(now_redacted, on_settle)


def _redact_if_asked(session: Session, message_id: uuid.UUID, now: dt.datetime) -> None:
    """Rewrite a just-settled row an erasure marked while it was pending (one look-up by
    primary key; nothing more for the rows no erasure touched)."""
    outbox = table_of(OutboxMessage)
    row = execute_core(
        session,
        sa.select(outbox.c.payload, outbox.c.redact_on_settle).where(
            outbox.c.id == message_id, outbox.c.redact_on_settle.is_not(None)
        ),
    ).first()
    if row is None:
        return
    execute_core(
        session,
        sa.update(outbox)
        .where(outbox.c.id == message_id)
        .values(
            payload=redacted(row.payload, row.redact_on_settle),
            redacted_at=now,
            redact_on_settle=sa.null(),
        ),
    )


def retry_delay(
    attempts_made: int, retry_after: dt.timedelta | None = None, rng: random.Random | None = None
) -> dt.timedelta:
    """The wait before the next attempt: the schedule's step with jitter, never sooner than
    a receiver's ``Retry-After`` (capped at a day)."""
    step = SCHEDULE[min(attempts_made, MAX_ATTEMPTS - 1)]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    delay = step * factor
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:_ERROR_LENGTH]
