"""``consent-service worker``: drains the outbox, one claimed batch at a time.

Each batch is claimed (and its send jobs prepared) in one short transaction, sent with no
transaction open, and each result settled in a transaction of its own: a worker killed at any
point loses at most its in-flight attempts, whose leases lapse so another worker sends them
again. SIGTERM lets the in-flight message finish, hands the rest of the batch back, and stops.

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
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consent_service.infra.database import commit_or_roll_back
from consent_service.infra.pii import Cipher
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
from consent_service.messaging.webhooks import CHANNEL as WEBHOOK_CHANNEL
from consent_service.messaging.webhooks import WebhookChannel
from consent_service.models import OutboxStatus
from consent_service.models.base import utcnow
from consent_service.settings import Settings

log = logging.getLogger(__name__)


@dataclasses.dataclass
class BatchReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # leases taken over by another worker before the outcome was settled
    released: int = 0


class Worker:
    """Claims, sends and settles outbox messages of the channels it has handlers for.

    The session is the worker's own; the worker commits it after every step (it is a surface,
    like a request or a command).
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
    ) -> None:
        self._session = session
        self._handlers = dict(handlers)
        self._batch_size = batch_size
        # Long enough for a whole batch of attempts that each run into the timeout.
        self._lease = lease or dt.timedelta(seconds=batch_size * (DELIVERY_TIMEOUT + 5) + 30)
        self._poll_interval = poll_interval
        self._clock = clock
        self._stopping = threading.Event()

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
            if report.claimed >= self._batch_size:
                continue  # more may be due right now
            if once:
                break
            self._stopping.wait(self._poll_interval)
        return total

    def run_batch(self) -> BatchReport:
        report = BatchReport()
        with commit_or_roll_back(self._session) as session:
            claimed = claim_due(
                session,
                channels=self._handlers.keys(),
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
        for index, message in enumerate(claimed):
            if self.stopping:
                self._release(claimed[index:])
                report.released = len(claimed) - index
                break
            job = jobs.get(message.id) or Outcome(Verdict.RETRY, error="no send job prepared")
            outcome = job if isinstance(job, Outcome) else _attempt(job)
            self._settle(message, outcome, report)
        return report

    def _settle(self, message: ClaimedMessage, outcome: Outcome, report: BatchReport) -> None:
        with commit_or_roll_back(self._session) as session:
            status = record_outcome(
                session,
                message,
                outcome,
                handler=self._handlers[message.channel],
                now=self._clock(),
            )
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
            message.channel,
            message.id,
            message.endpoint_id,
            message.attempt,
            status.value if status else "lease lost",
            f" ({outcome.error})" if outcome.error else "",
        )

    def _release(self, messages: list[ClaimedMessage]) -> None:
        with commit_or_roll_back(self._session) as session:
            release(session, messages)


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
    cipher: Cipher,
    allow_private_networks: bool,
    batch_size: int = 10,
    poll_interval: float = 1.0,
    lease: dt.timedelta | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    timeout: float = DELIVERY_TIMEOUT,
    email: EmailSetup | None = None,
) -> Worker:
    """The worker of every channel there is: webhooks, and email when ``email`` is given.
    ``clock`` is the outbox's time (due, backoff, leases); signatures and ``Date`` headers
    always carry the real time of the attempt."""
    transport = HttpTransport(allow_private_networks=allow_private_networks, timeout=timeout)
    handlers: dict[str, ChannelHandler] = {WEBHOOK_CHANNEL: WebhookChannel(cipher, transport)}
    if email is not None:
        if lease is None and email.rate_per_second > 0:
            # Room for a whole throttled batch on top of the timeouts.
            base = batch_size * (DELIVERY_TIMEOUT + 5) + 30
            lease = dt.timedelta(seconds=base + batch_size / email.rate_per_second)
        # Never start a send the lease may not outlive (a quarter of a short test lease).
        margin = min(dt.timedelta(seconds=5), (lease or dt.timedelta(seconds=60)) / 4)
        handlers[EMAIL_CHANNEL] = EmailChannel(email, lease_margin=margin, clock=clock)
    return Worker(
        session,
        handlers,
        batch_size=batch_size,
        lease=lease,
        poll_interval=poll_interval,
        clock=clock,
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
