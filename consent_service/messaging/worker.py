"""``consent-service worker``: drains the outbox, one claimed batch at a time.

Each batch is claimed (and its send jobs prepared) in one short transaction, sent with no
transaction open, and each result settled in a transaction of its own: a worker killed at any
point loses at most its in-flight attempts, whose leases lapse so another worker sends them
again. SIGTERM lets the in-flight message finish, hands the rest of the batch back, and stops.

The email channel (``email_sender.py``) brings its own SMTP transport. Also the webhook
channel's HTTP transport: stdlib ``http.client``, redirects never followed,
and an SSRF guard that resolves the host, refuses non-public addresses (unless configured for
development) and connects to exactly the address it checked, so DNS cannot change in between.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import http.client
import ipaddress
import logging
import signal
import socket
import ssl
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consent_service.infra.pii import Cipher
from consent_service.infra.pii import Vault
from consent_service.messaging.email import CHANNEL as EMAIL_CHANNEL
from consent_service.messaging.email import EmailChannel
from consent_service.messaging.email import EmailSetup
from consent_service.messaging.email import SmtpConfig
from consent_service.messaging.outbox import ChannelHandler
from consent_service.messaging.outbox import ClaimedMessage
from consent_service.messaging.outbox import Outcome
from consent_service.messaging.outbox import Send
from consent_service.messaging.outbox import Verdict
from consent_service.messaging.outbox import claim_due
from consent_service.messaging.outbox import record_outcome
from consent_service.messaging.outbox import release
from consent_service.messaging.webhooks import CHANNEL as WEBHOOK_CHANNEL
from consent_service.messaging.webhooks import HttpAnswer
from consent_service.messaging.webhooks import TransportError
from consent_service.messaging.webhooks import WebhookChannel
from consent_service.messaging.webhooks import is_public_address
from consent_service.models import OutboxStatus
from consent_service.models.base import utcnow
from consent_service.settings import Settings

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 15.0
_RESPONSE_BYTES = 4096  # read (and ignore) at most this much of a receiver's answer


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
        session = self._session
        try:
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
            session.commit()
        except Exception:
            session.rollback()
            raise
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
        try:
            status = record_outcome(
                self._session,
                message,
                outcome,
                handler=self._handlers[message.channel],
                now=self._clock(),
            )
            self._session.commit()
        except Exception:
            self._session.rollback()
            raise
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
        try:
            release(self._session, messages)
            self._session.commit()
        except Exception:
            self._session.rollback()
            raise


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


# --- HTTP ------------------------------------------------------------------------------------


class HttpTransport:
    """One POST per call: no redirects, a timeout, and the SSRF guard."""

    def __init__(
        self,
        *,
        allow_private_networks: bool,
        timeout: float = DELIVERY_TIMEOUT,
        resolve: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        self._allow_private = allow_private_networks
        self._timeout = timeout
        self._resolve = resolve or _resolve
        self._tls = ssl.create_default_context()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise TransportError("not an http(s) URL")
        if parts.scheme == "http" and not self._allow_private:
            raise TransportError("plain http is refused; use https")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self.vetted_address(parts.hostname, port)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = _PinnedHTTPSConnection(
                parts.hostname, port, address, self._timeout, self._tls
            )
        else:
            connection = _PinnedHTTPConnection(parts.hostname, port, address, self._timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # The socket timeout bounds each read; this bounds the whole exchange, so a receiver
        # trickling its answer a byte at a time cannot hold the worker (and its lease).
        expired = threading.Event()
        deadline = threading.Timer(self._timeout, _abort, args=(connection, expired))
        deadline.daemon = True
        deadline.start()
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(_RESPONSE_BYTES)
            if expired.is_set():  # a cut-off answer can still parse: never count it a success
                raise TransportError("timed out")
            return HttpAnswer(response.status, response.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError("timed out" if expired.is_set() else _describe(exc)) from None
        finally:
            deadline.cancel()
            connection.close()

    def vetted_address(self, host: str, port: int) -> str:
        """The address to connect to; every address the name resolves to must be public."""
        try:
            addresses = self._resolve(host, port)
        except OSError:
            raise TransportError("the host name does not resolve") from None
        if not addresses:
            raise TransportError("the host name does not resolve")
        if not self._allow_private:
            for address in addresses:
                if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                    raise TransportError(
                        "the host resolves to a loopback, private or link-local address"
                    )
        return addresses[0]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"[:200]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address while the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTPConnection`, with TLS verified against the host's name."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, tls: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=tls)
        self._address = address
        self._tls = tls

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
