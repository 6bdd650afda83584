"""``consent-service worker``: drains the outbox, one claimed batch at a time.

Each batch is claimed (and its send jobs prepared) in one short transaction, sent with no
transaction open, and each result settled in a transaction of its own. What that guarantees:

* **No message is lost.** A row leaves ``pending`` only by a settled outcome.
* **A crash costs seconds.** Claims are leased for a short time (``DEFAULT_LEASE``) and a
  heartbeat thread renews the leases of the rows the worker still holds while the batch is in
  flight; a killed worker's rows are claimed again by another worker once they lapse.
* **The database going away loses no outcome.** A settlement that fails is kept in memory and
  retried with backoff until the database answers; nothing new is sent meanwhile. A send is
  only started while the worker still holds the row's lease with a margin to spare.
* **At most one duplicate per crash.** Only a message whose receiver accepted it in the window
  before its outcome was committed (the process killed, or its lease lost because the database
  stayed away longer than the lease, in that window) is sent again, under the same id (the
  webhook-id, the email's Message-ID).
* **An unreachable channel costs no attempts.** An SMTP server that cannot be reached pauses
  the email channel with exponential backoff (``CHANNEL_BACKOFF`` doubling up to
  ``CHANNEL_BACKOFF_MAX``) and hands the batch's email rows back without counting the attempt.

SIGTERM lets the in-flight message finish, hands the rest of the batch back, and stops.

Between batches the worker also runs its *chores* when due (the retention job, hourly by
default): each commits its own short transactions, and a chore that fails is logged and tried
again at its next time, never stopping the outbox.

The webhook channel sends through ``http_transport.py``; the email channel brings its own
SMTP transport (``email.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consent_service.infra.database import commit_or_roll_back
from consent_service.infra.pii import Vault
from consent_service.messaging.email import CHANNEL as EMAIL_CHANNEL
from consent_service.messaging.email import EmailChannel
from consent_service.messaging.email import EmailSetup
from consent_service.messaging.email import SmtpConfig
from consent_service.messaging.http_transport import DELIVERY_TIMEOUT
from consent_service.messaging.http_transport import HttpTransport
from consent_service.messaging.outbox import ChannelHandler
from consent_service.messaging.outbox import ClaimedMessage
from consent_service.messaging.outbox import Outcome
from consent_service.messaging.outbox import Send
from consent_service.messaging.outbox import Verdict
from consent_service.messaging.outbox import claim_due
from consent_service.messaging.outbox import record_outcome
from consent_service.messaging.outbox import release
from consent_service.messaging.outbox import renew
from consent_service.messaging.webhooks import CHANNEL as WEBHOOK_CHANNEL
from consent_service.messaging.webhooks import WebhookChannel
from consent_service.models import OutboxStatus
from consent_service.models.base import utcnow
from consent_service.settings import Settings

log = logging.getLogger(__name__)

# How long a claim lasts unless renewed; the heartbeat renews it every quarter of that.
DEFAULT_LEASE = dt.timedelta(seconds=15)
# An unreachable channel is paused this long, doubling while it stays unreachable.
CHANNEL_BACKOFF = 1.0
CHANNEL_BACKOFF_MAX = 30.0
# A settlement the database refused is retried after this long, doubling up to the cap.
SETTLE_RETRY = 0.2
SETTLE_RETRY_MAX = 5.0
# Once stopping, a settlement is retried this long at most (then its lease lapses and the
# message may be sent again: the crash case).
SETTLE_PATIENCE_WHEN_STOPPING = 30.0


@dataclasses.dataclass
class BatchReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # leases taken over by another worker before the outcome was settled
    released: int = 0
    deferred: int = 0  # handed back uncounted because their channel could not be reached


@dataclasses.dataclass(frozen=True)
class Chore:
    """Periodic work between batches: ``run(session, now)`` at most once every ``every``
    (first at start-up); it commits its own work."""

    name: str
    every: dt.timedelta
    run: Callable[[Session, dt.datetime], object]


class _Leases:
    """The rows of the batch in flight this worker still holds, each with its current lease.

    The heartbeat thread renews them; the worker reads them before each send and settles
    against them. ``lock`` keeps a renewal and a settlement of the same row apart, so the
    lease a settlement compares with is the one in the database."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._held: dict[uuid.UUID, ClaimedMessage] = {}

    def hold(self, messages: list[ClaimedMessage]) -> None:
        with self.lock:
            self._held = {m.id: m for m in messages}

    def current(self, message_id: uuid.UUID) -> ClaimedMessage | None:
        with self.lock:
            return self._held.get(message_id)

    def current_locked(self, message_id: uuid.UUID) -> ClaimedMessage | None:
        """Called with ``lock`` held."""
        return self._held.get(message_id)

    def drop(self, message_id: uuid.UUID) -> None:
        """Called with ``lock`` held."""
        self._held.pop(message_id, None)

    def clear(self) -> None:
        with self.lock:
            self._held = {}

    def all(self) -> list[ClaimedMessage]:
        """Called with ``lock`` held."""
        return list(self._held.values())

    def replace(self, renewed: dict[uuid.UUID, ClaimedMessage]) -> None:
        """Called with ``lock`` held."""
        self._held = renewed


class Worker:
    """Claims, sends and settles outbox messages of the channels it has handlers for.

    The session is the worker's own; the worker commits it after every step (it is a surface,
    like a request or a command). The heartbeat uses a session of its own on the same engine.
    """

    def __init__(
        self,
        session: Session,
        handlers: Mapping[str, ChannelHandler],
        *,
        batch_size: int = 10,
        lease: dt.timedelta | None = None,
        poll_interval: float = 1.0,
        clock: Callable[[], dt.datetime] = utcnow,
        channel_backoff: float = CHANNEL_BACKOFF,
        channel_backoff_max: float = CHANNEL_BACKOFF_MAX,
        monotonic: Callable[[], float] = time.monotonic,
        chores: tuple[Chore, ...] = (),
    ) -> None:
        self._session = session
        self._chores = chores
        self._chores_due: dict[str, float] = {}  # chore name -> monotonic time it is next due
        self._handlers = dict(handlers)
        self._batch_size = batch_size
        self._lease = lease or DEFAULT_LEASE
        # Renewed four times per lease: three renewals may fail before the lease is at risk.
        self._heartbeat_every = self._lease.total_seconds() / 4
        # Never start a send the lease may not outlive (a quarter of a short test lease).
        self._margin = min(dt.timedelta(seconds=5), self._lease / 4)
        self._poll_interval = poll_interval
        self._clock = clock
        self._monotonic = monotonic
        self._stopping = threading.Event()
        self._leases = _Leases()
        self._backoff_first = channel_backoff
        self._backoff_max = channel_backoff_max
        self._backoff: dict[str, float] = {}  # channel -> its current pause (seconds)
        self._paused_until: dict[str, float] = {}  # channel -> monotonic time it resumes

    def stop(self) -> None:
        """Finish the message in flight, hand the rest of the batch back, then return."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self, *, once: bool = False) -> BatchReport:
        """Work until stopped (or, with ``once``, until nothing is due); returns the totals."""
        try:
            return self._run(once=once)
        finally:
            for handler in self._handlers.values():
                close = getattr(handler, "close", None)  # e.g. the email channel's connection
                if close is not None:
                    close()

    def _run(self, *, once: bool) -> BatchReport:
        total = BatchReport()
        while not self.stopping:
            if not once:
                self.run_due_chores()
            try:
                report = self.run_batch()
            except SQLAlchemyError:
                if once:
                    raise
                log.exception("outbox batch failed; retrying in %.1f s", self._poll_interval)
                self._stopping.wait(self._poll_interval)
                continue
            for field in dataclasses.fields(BatchReport):
                setattr(total, field.name, getattr(total, field.name) + getattr(report, field.name))
            if report.claimed >= self._batch_size and not report.deferred:
                continue  # more may be due right now
            if once:
                break
            self._stopping.wait(self._poll_interval)
        return total

    def run_due_chores(self) -> None:
        """Run each chore whose time has come; a failure waits for the chore's next time."""
        for chore in self._chores:
            due = self._chores_due.get(chore.name, 0.0)
            if self.stopping or self._monotonic() < due:
                continue
            self._chores_due[chore.name] = self._monotonic() + chore.every.total_seconds()
            try:
                chore.run(self._session, self._clock())
            except SQLAlchemyError:
                self._session.rollback()
                log.exception("chore %s failed; next try in %s", chore.name, chore.every)

    def run_batch(self) -> BatchReport:
        report = BatchReport()
        channels = [c for c in self._handlers if not self._paused(c)]
        if not channels:
            return report
        with commit_or_roll_back(self._session) as session:
            claimed = claim_due(
                session,
                channels=channels,
                now=self._clock(),
                limit=self._batch_size,
                lease=self._lease,
            )
            jobs: dict[uuid.UUID, Send | Outcome] = {}
            for channel, handler in self._handlers.items():
                mine = [m for m in claimed if m.channel == channel]
                if mine:
                    jobs.update(handler.prepare(session, mine))
        report.claimed = len(claimed)
        if not claimed:
            return report
        self._leases.hold(claimed)
        beat = threading.Event()
        # The engine is looked up here: the worker's session may be bound to this thread.
        own = Session(bind=self._session.get_bind())
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(own, beat), name="outbox-heartbeat", daemon=True
        )
        heartbeat.start()
        try:
            self._work(claimed, jobs, report)
        finally:
            beat.set()
            heartbeat.join()
            self._leases.clear()
        return report

    def _work(
        self,
        claimed: list[ClaimedMessage],
        jobs: Mapping[uuid.UUID, Send | Outcome],
        report: BatchReport,
    ) -> None:
        for index, claim in enumerate(claimed):
            if self.stopping:
                report.released += self._hand_back(claimed[index:])
                return
            message = self._leases.current(claim.id)
            if message is None:
                continue  # settled by a channel pause, or taken over: not ours to send
            if self._clock() >= message.lease - self._margin:
                # The heartbeat could not renew it (the database is away): sending now could
                # overlap with a worker that takes the row over. Leave the rest to lapse.
                log.warning("outbox leases could not be renewed; ending the batch unsent")
                self._hand_back(claimed[index:], quietly=True)
                return
            job = jobs.get(message.id) or Outcome(Verdict.RETRY, error="no send job prepared")
            outcome = job if isinstance(job, Outcome) else _attempt(job)
            if outcome.verdict is Verdict.UNREACHABLE:
                self._pause(message.channel, outcome.error)
                rest = [m for m in claimed[index:] if m.channel == message.channel]
                report.deferred += self._hand_back(rest, reason=outcome.error)
                continue
            self._backoff.pop(message.channel, None)
            self._settle(message, outcome, report)

    def _heartbeat(self, session: Session, done: threading.Event) -> None:
        """Renew this worker's leases until the batch is done, in ``session`` (its own)."""
        try:
            while not done.wait(self._heartbeat_every):
                with self._leases.lock:
                    try:
                        with commit_or_roll_back(session):
                            renewed = renew(
                                session, self._leases.all(), now=self._clock(), lease=self._lease
                            )
                    except SQLAlchemyError as exc:
                        log.warning("could not renew outbox leases: %s", type(exc).__name__)
                        continue
                    lost = len(self._leases.all()) - len(renewed)
                    if lost:
                        log.warning("%d outbox leases were taken over", lost)
                    self._leases.replace(renewed)
        finally:
            session.close()

    def _settle(self, claim: ClaimedMessage, outcome: Outcome, report: BatchReport) -> None:
        """Record ``outcome``; while the database refuses, keep it and try again."""
        wait = SETTLE_RETRY
        give_up_at: float | None = None
        while True:
            with self._leases.lock:
                message = self._leases.current_locked(claim.id)
                if message is None:
                    status = None
                    break
                try:
                    with commit_or_roll_back(self._session) as session:
                        status = record_outcome(
                            session,
                            message,
                            outcome,
                            handler=self._handlers[message.channel],
                            now=self._clock(),
                        )
                    self._leases.drop(message.id)
                    break
                except SQLAlchemyError as exc:
                    error = type(exc).__name__
            if self.stopping:
                give_up_at = give_up_at or self._monotonic() + SETTLE_PATIENCE_WHEN_STOPPING
                if self._monotonic() >= give_up_at:
                    log.error("outbox message %s: outcome not recorded before stopping", claim.id)
                    report.lost += 1
                    return
            log.warning(
                "outbox message %s: recording its outcome failed (%s); retrying in %.1f s",
                claim.id,
                error,
                wait,
            )
            time.sleep(wait)
            wait = min(wait * 2, SETTLE_RETRY_MAX)
        if status is None:
            report.lost += 1
        elif status is OutboxStatus.DELIVERED:
            report.delivered += 1
        elif status is OutboxStatus.PENDING:
            report.retrying += 1
        else:
            report.dead += 1
        # Ids and codes only: never a payload, a URL (it may embed a token) or a secret.
        log.info(
            "%s message %s (endpoint %s) attempt %d: %s%s",
            claim.channel,
            claim.id,
            claim.endpoint_id,
            claim.attempt,
            status.value if status else "lease lost",
            f" ({outcome.error})" if outcome.error else "",
        )

    def _hand_back(
        self, claims: list[ClaimedMessage], *, reason: str | None = None, quietly: bool = False
    ) -> int:
        """Give ``claims`` back uncounted (those still held); how many."""
        with self._leases.lock:
            held = [m for c in claims if (m := self._leases.current_locked(c.id)) is not None]
            for message in held:
                self._leases.drop(message.id)
            if not held:
                return 0
            try:
                with commit_or_roll_back(self._session) as session:
                    release(session, held, reason=reason)
            except SQLAlchemyError:
                if not quietly:
                    raise
                # The database is away: the leases lapse instead (each attempt stays counted).
        return len(held)

    def _pause(self, channel: str, reason: str | None) -> None:
        pause = self._backoff.get(channel)
        pause = self._backoff_first if pause is None else min(pause * 2, self._backoff_max)
        self._backoff[channel] = pause
        self._paused_until[channel] = self._monotonic() + pause
        log.warning("%s channel unreachable (%s); paused for %.1f s", channel, reason, pause)

    def _paused(self, channel: str) -> bool:
        until = self._paused_until.get(channel)
        return until is not None and self._monotonic() < until


def _attempt(send: Send) -> Outcome:
    """Run one send job; a bug in a channel fails the attempt, never the worker."""
    try:
        return send()
    except Exception as exc:
        log.exception("a send job raised")
        return Outcome(Verdict.RETRY, error=f"internal error: {type(exc).__name__}")


def build_worker(
    session: Session,
    *,
    vault: Vault,
    allow_private_networks: bool,
    batch_size: int = 10,
    poll_interval: float = 1.0,
    lease: dt.timedelta | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    timeout: float = DELIVERY_TIMEOUT,
    email: EmailSetup | None = None,
    chores: tuple[Chore, ...] = (),
) -> Worker:
    """The worker of every channel there is: webhooks, and email when ``email`` is given.
    ``clock`` is the outbox's time (due, backoff, leases); signatures and ``Date`` headers
    always carry the real time of the attempt."""
    transport = HttpTransport(allow_private_networks=allow_private_networks, timeout=timeout)
    handlers: dict[str, ChannelHandler] = {WEBHOOK_CHANNEL: WebhookChannel(vault, transport)}
    if email is not None:
        handlers[EMAIL_CHANNEL] = EmailChannel(email, clock=clock)
    return Worker(
        session,
        handlers,
        batch_size=batch_size,
        lease=lease,
        poll_interval=poll_interval,
        clock=clock,
        chores=chores,
    )


def email_setup(settings: Settings, vault: Vault) -> EmailSetup:
    """The email channel's configuration from the ``CONSENT_SMTP_*`` settings."""
    return EmailSetup(
        vault=vault,
        smtp=SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
        ),
        from_address=settings.smtp_from,
        reply_to=settings.smtp_reply_to,
        unsubscribe_mailto=settings.smtp_unsubscribe_mailto,
        base_url=settings.base_url,
        secret_key=settings.secret_key,
        rate_per_second=settings.smtp_rate_limit,
    )


@contextlib.contextmanager
def stopped_by_signals(worker: Worker) -> Iterator[Worker]:
    """While inside, SIGTERM (and Ctrl-C) stop the worker gracefully instead of killing it
    mid-message; the previous handlers are back afterwards."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received signal %s: finishing the message in flight, then stopping", signum)
        worker.stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield worker
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
