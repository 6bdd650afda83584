"""The outbox's ``email`` channel: policy-change notices rendered per customer, and sign-in
links to the preferences page, sent by SMTP.

While the claiming transaction is open, :class:`EmailChannel` reads each row's campaign,
version and customer, decrypts the address, and renders the message (text + HTML, in the
customer's language, from ``templates/email/<locale>/``). The send jobs then run with no
transaction open, through one SMTP connection kept across batches (reconnected on failure)
and throttled to the configured rate.

One message per customer per campaign, and what a crash can cost:

* ``UNIQUE (campaign_id, identity_id)`` on the outbox: a second row cannot exist.
* The worker settles each message in its own transaction right after the SMTP server
  accepted it (``250`` after ``DATA``), before the next message is started; a worker killed
  between messages therefore leaves every accepted message marked delivered, and the rest
  pending under a short lease that lapses within seconds (another worker sends them then).
  A worker that cannot reach its database keeps the outcome in memory and commits it when
  the database answers again, sending nothing new meanwhile.
* The worker starts a send only while it still holds the row's lease (renewed by a
  heartbeat), so a slow worker cannot overlap with one that took its rows over.
* What remains is the window between the server's ``250`` and the commit of the mark (the
  process killed, or the machine lost, in those milliseconds): the message is sent again
  later, with the same ``Message-ID`` (derived from the row's id), so it is recognisably the
  same message. At most one duplicate per crash, never a miss.

SMTP answers: ``2xx`` delivered; ``4xx``, and a connection lost in the middle of a message,
are retried on the outbox's backoff schedule; ``5xx`` (e.g. ``550`` mailbox unknown) is
permanent: the row is dead with the server's reason, and never retried unless an operator
re-drives it. A server that cannot be reached at all (connection refused, connect timeout,
greeting or login failing) is not the message's fault: the outcome is ``UNREACHABLE``, the
attempt is not counted, and the worker pauses the channel instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
import email.utils
import functools
import json
import logging
import select
import smtplib
import socket
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any
from typing import cast

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import KeyStoreUnavailable
from consent_service.infra.pii import EMAIL
from consent_service.infra.pii import UndecryptableData
from consent_service.infra.pii import Vault
from consent_service.infra.urls import policy_diff_url
from consent_service.infra.urls import policy_page_url
from consent_service.messaging.campaigns import CHANNEL
from consent_service.messaging.campaigns import MAGIC_LINK_EVENT
from consent_service.messaging.campaigns import MAGIC_LINK_LIFETIME
from consent_service.messaging.campaigns import POLICY_NOTICES_LIST
from consent_service.messaging.campaigns import magic_link_token
from consent_service.messaging.campaigns import preferences_token
from consent_service.messaging.campaigns import unsubscribe_token
from consent_service.messaging.outbox import ClaimedMessage
from consent_service.messaging.outbox import Outcome
from consent_service.messaging.outbox import Send
from consent_service.messaging.outbox import Verdict
from consent_service.models import EmailCampaign
from consent_service.models import EmailSubscription
from consent_service.models import Identity
from consent_service.models import MagicLink
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import VersionStatus
from consent_service.models.base import utcnow

__all__ = ["CHANNEL", "EmailChannel", "EmailSetup", "SmtpConfig", "Throttle"]

log = logging.getLogger(__name__)

FALLBACK_LOCALE = "en"
# Headers are not folded below this: an unsubscribe URL must stay one unbroken token.
# No folding below RFC 5322's 998: a folded List-Unsubscribe URL would break in clients.
COMPAT32 = email.policy.compat32.clone(max_line_length=998)
# A connection idle longer than this is checked with NOOP before it carries a message.
IDLE_CHECK_SECONDS = 10.0
# Why a message to a person whose key was shredded is never sent.
ERASED = "the customer was erased: their address can no longer be read"


@dataclasses.dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 1025
    starttls: bool = False
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    timeout: float = 30.0


@dataclasses.dataclass(frozen=True)
class EmailSetup:
    """Everything the email channel needs, built from the settings by the surface."""

    vault: Vault
    smtp: SmtpConfig
    from_address: str
    base_url: str
    secret_key: str = dataclasses.field(repr=False)
    reply_to: str | None = None
    unsubscribe_mailto: str | None = None
    rate_per_second: float = 10.0


# --- throttle --------------------------------------------------------------------------------


class Throttle:
    """At most ``per_second`` sends per second, evenly spaced (no burst after idling);
    0 means unlimited. Per worker process: N workers send up to N times the rate."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def delay(self) -> float:
        """Reserve the next slot; the seconds to wait for it."""
        if self._interval == 0:
            return 0.0
        now = self._clock()
        if self._next is None or self._next < now:
            self._next = now
        wait = self._next - now
        self._next += self._interval
        return wait

    def wait(self) -> None:
        seconds = self.delay()
        if seconds > 0:
            self._sleep(seconds)


# --- SMTP ------------------------------------------------------------------------------------


class SmtpTransport:
    """One SMTP connection, opened on first use and kept across messages and batches."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    def send(self, message: Message, sender: str, recipient: str) -> Outcome:
        try:
            smtp = self._connection()
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            where = f"{self._config.host}:{self._config.port}"
            return Outcome(
                Verdict.UNREACHABLE, error=f"cannot reach SMTP server {where}: {_says(exc)}"
            )
        try:
            refused = smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, (550, b"recipient refused"))
            return _answer(code, text)
        except smtplib.SMTPAuthenticationError as exc:  # our configuration, not the message
            self.close()
            return Outcome(Verdict.RETRY, status=exc.smtp_code, error=_reply(exc))
        except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused, ...
            return _answer(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:  # disconnected, timed out
            self.close()
            return Outcome(Verdict.RETRY, error=f"SMTP connection failed: {_says(exc)}")
        finally:
            self._last_used = time.monotonic()
        if refused:
            code, text = refused.get(recipient, (550, b"recipient refused"))
            return _answer(code, text)
        return Outcome(Verdict.DELIVERED, status=250)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and _closed_by_server(self._smtp):
            self.close()  # the server went away (or said 421) while we were idle: reconnect
        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                code, _ = self._smtp.noop()
            except (OSError, smtplib.SMTPException):
                code = 0
            if code != 250:
                self.close()
        if self._smtp is None:
            config = self._config
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            try:
                # smtplib writes a command and its data in pieces: without this, Nagle and
                # delayed ACKs cost ~40 ms per message.
                if smtp.sock is not None:
                    smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                smtp.ehlo()
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if config.username:
                    smtp.login(config.username, config.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp


def _closed_by_server(smtp: smtplib.SMTP) -> bool:
    """Whether an idle connection has something to read: between commands a live server
    sends nothing, so that is its end of the stream (or a ``421`` before closing)."""
    sock = smtp.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _answer(code: int, text: bytes | str) -> Outcome:
    error = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    if 200 <= code < 300:
        return Outcome(Verdict.DELIVERED, status=code)
    verdict = Verdict.GIVE_UP if code >= 500 else Verdict.RETRY
    return Outcome(verdict, status=code, error=error.strip())


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return str(_answer(exc.smtp_code, exc.smtp_error).error)


def _says(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


# --- rendering -------------------------------------------------------------------------------


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("consent_service.messaging", "templates/email"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def template_locales() -> frozenset[str]:
    return frozenset(name.split("/")[0] for name in _templates().list_templates())


def choose_locale(wanted: str | None, default: str, available: frozenset[str]) -> str:
    """The customer's language if we have it (``de-AT`` falls back to ``de``), else the
    property's default, else English."""
    for candidate in (wanted, default):
        if not candidate:
            continue
        for form in (candidate, candidate.split("-")[0].split("_")[0]):
            if form.lower() in available:
                return form.lower()
    return FALLBACK_LOCALE


def localized(texts: Mapping[str, str], locale: str, default: str) -> str | None:
    for key in (locale, default, FALLBACK_LOCALE):
        if texts.get(key):
            return texts[key]
    return next((text for text in texts.values() if text), None)


@dataclasses.dataclass(frozen=True)
class _Campaign:
    """What every message of one campaign shares, read once per batch."""

    id: uuid.UUID
    property_id: int
    property_key: str
    property_name: str
    default_locale: str
    controller: Mapping[str, str]
    document_key: str
    version: int
    previous_version: int | None
    effective_at: dt.datetime
    change_summary: Mapping[str, str]
    # A material version makes earlier choices stale: the email says they will be asked again
    # (about these purposes' names, {locale: name} each; empty: every purpose) and where.
    asks_again: bool = False
    affected_purposes: Sequence[Mapping[str, str]] = ()
    site: str = ""


def site_of(allowed_origins: Sequence[str], fallback: str) -> str:
    """Where the customer will be asked again, as they know it: the host of the shop's first
    ``https`` origin (``shop.example``; a development origin only if there is no other),
    else the property's name."""
    parts = [urllib.parse.urlsplit(origin) for origin in allowed_origins]
    for part in sorted(parts, key=lambda part: part.scheme != "https"):
        if part.hostname:
            return part.hostname
    return fallback


@dataclasses.dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str
    locale: str


def render_notice(
    campaign: _Campaign, locale: str, links: Mapping[str, str | None]
) -> RenderedNotice:
    env = _templates()
    context: dict[str, Any] = {
        "property_name": campaign.property_name,
        "controller_name": campaign.controller.get("name") or campaign.property_name,
        "controller_contact": campaign.controller.get("contact"),
        "version": campaign.version,
        "previous_version": campaign.previous_version,
        "effective_date": campaign.effective_at.date().isoformat(),
        "summary": localized(campaign.change_summary, locale, campaign.default_locale),
        "asks_again": campaign.asks_again,
        "affected": [
            name
            for names in campaign.affected_purposes
            if (name := localized(names, locale, campaign.default_locale))
        ],
        "site": campaign.site,
        **links,
    }
    subject = env.get_template(f"{locale}/policy_notice.subject.txt").render(context)
    subject = " ".join(subject.split())
    context["subject"] = subject
    text = env.get_template(f"{locale}/policy_notice.txt").render(context)
    html = env.get_template(f"{locale}/policy_notice.html").render(context)
    return RenderedNotice(subject, text, html, locale)


# --- the channel -----------------------------------------------------------------------------


class EmailChannel:
    """The outbox channel ``email``: see the module's docstring."""

    def __init__(
        self,
        setup: EmailSetup,
        *,
        transport: SmtpTransport | None = None,
        throttle: Throttle | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._setup = setup
        self._transport = transport or SmtpTransport(setup.smtp)
        self._throttle = throttle or Throttle(setup.rate_per_second)
        self._clock = clock
        self._sender = email.utils.parseaddr(setup.from_address)[1] or setup.from_address
        self._domain = self._sender.rpartition("@")[2] or "localhost"

    def prepare(
        self, session: Session, messages: Sequence[ClaimedMessage]
    ) -> Mapping[uuid.UUID, Send | Outcome]:
        jobs: dict[uuid.UUID, Send | Outcome] = {}
        sign_ins = [m for m in messages if m.event_type == MAGIC_LINK_EVENT]
        if sign_ins:
            jobs.update(self._sign_in_jobs(session, sign_ins))
            messages = [m for m in messages if m.event_type != MAGIC_LINK_EVENT]
        campaigns = self._campaigns(session, {m.campaign_id for m in messages if m.campaign_id})
        identity_ids = {m.identity_id for m in messages if m.identity_id}
        customers = {
            row.id: row
            for row in session.execute(
                sa.select(Identity.id, Identity.email_ciphertext, Identity.locale).where(
                    Identity.id.in_(identity_ids)
                )
            )
        }
        try:
            keys = self._setup.vault.people.keys_of(identity_ids)
        except KeyStoreUnavailable as exc:  # nothing is lost: every message waits for it
            return {**jobs, **{m.id: Outcome(Verdict.RETRY, error=exc.detail) for m in messages}}
        left = set(
            session.scalars(
                sa.select(EmailSubscription.identity_id).where(
                    EmailSubscription.identity_id.in_(identity_ids),
                    EmailSubscription.list_key == POLICY_NOTICES_LIST,
                    EmailSubscription.subscribed.is_(False),
                )
            )
        )
        for message in messages:
            campaign = campaigns.get(message.campaign_id) if message.campaign_id else None
            customer = customers.get(message.identity_id) if message.identity_id else None
            if campaign is None:
                jobs[message.id] = Outcome(Verdict.GIVE_UP, error="the campaign no longer exists")
            elif customer is None or customer.email_ciphertext is None:
                jobs[message.id] = Outcome(
                    Verdict.GIVE_UP, error="the customer has no email address any more"
                )
            elif customer.id in left:
                jobs[message.id] = Outcome(
                    Verdict.GIVE_UP, error=f"unsubscribed from {POLICY_NOTICES_LIST}"
                )
            else:
                try:
                    address = self._setup.vault.open(
                        customer.id,
                        campaign.property_id,
                        EMAIL,
                        customer.email_ciphertext,
                        keys=keys,
                    )
                except UndecryptableData as exc:  # a key this worker lacks: fix and retry
                    jobs[message.id] = Outcome(Verdict.RETRY, error=f"address unreadable: {exc}")
                    continue
                if address is None:
                    jobs[message.id] = Outcome(Verdict.GIVE_UP, error=ERASED)
                    continue
                built = self.build_message(message.id, campaign, customer.id, customer.locale)
                jobs[message.id] = functools.partial(self._send, built, address)
        return jobs

    def _sign_in_jobs(
        self, session: Session, messages: Sequence[ClaimedMessage]
    ) -> dict[uuid.UUID, Send | Outcome]:
        """Sign-in links: the token is made now, from the row's link id, never stored."""
        jobs: dict[uuid.UUID, Send | Outcome] = {}
        now = self._clock()
        for message in messages:
            link_id = uuid.UUID(json.loads(message.payload)["magic_link"])
            row = session.execute(
                sa.select(MagicLink, Identity.email_ciphertext, Identity.locale, Property)
                .join(Identity, Identity.id == MagicLink.identity_id)
                .join(Property, Property.id == MagicLink.property_id)
                .where(MagicLink.id == link_id)
            ).first()
            if row is None:
                jobs[message.id] = Outcome(Verdict.GIVE_UP, error="the sign-in link is gone")
                continue
            link, ciphertext, customer_locale, prop = row
            if link.expires_at <= now or link.used_at is not None:
                jobs[message.id] = Outcome(
                    Verdict.GIVE_UP, error="the sign-in link expired before it could be sent"
                )
                continue
            if ciphertext is None:
                jobs[message.id] = Outcome(
                    Verdict.GIVE_UP, error="the customer has no email address any more"
                )
                continue
            try:
                address = self._setup.vault.open(link.identity_id, prop.id, EMAIL, ciphertext)
            except (UndecryptableData, KeyStoreUnavailable) as exc:
                jobs[message.id] = Outcome(Verdict.RETRY, error=f"address unreadable: {exc}")
                continue
            if address is None:
                jobs[message.id] = Outcome(Verdict.GIVE_UP, error=ERASED)
                continue
            built = self.build_sign_in_message(
                message.id, link_id, prop, link.locale or customer_locale
            )
            jobs[message.id] = functools.partial(self._send, built, address)
        return jobs

    def build_sign_in_message(
        self, message_id: uuid.UUID, link_id: uuid.UUID, prop: Property, locale: str | None
    ) -> Message:
        """A transactional message: no List-Unsubscribe, nothing but the link."""
        setup = self._setup
        token = magic_link_token(setup.secret_key, link_id)
        chosen = choose_locale(locale, prop.default_locale, template_locales())
        env = _templates()
        context: dict[str, Any] = {
            "property_name": prop.name,
            "minutes": int(MAGIC_LINK_LIFETIME.total_seconds() // 60),
            "sign_in_url": f"{setup.base_url.rstrip('/')}/preferences/sign-in?token={token}",
        }
        subject = " ".join(
            env.get_template(f"{chosen}/magic_link.subject.txt").render(context).split()
        )
        context["subject"] = subject
        message = MIMEMultipart("alternative", policy=COMPAT32)
        message["Subject"] = cast(str, Header(subject, "utf-8", header_name="Subject"))
        message["From"] = setup.from_address
        message["Message-ID"] = f"<{message_id.hex}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message["Content-Language"] = chosen
        text = env.get_template(f"{chosen}/magic_link.txt").render(context)
        html = env.get_template(f"{chosen}/magic_link.html").render(context)
        message.attach(MIMEText(text, "plain", "utf-8"))
        message.attach(MIMEText(html, "html", "utf-8"))
        return message

    def gone(self, session: Session, message: ClaimedMessage, now: dt.datetime) -> None:
        """No SMTP answer maps to "gone"; nothing to do."""

    def close(self) -> None:
        self._transport.close()

    def build_message(
        self,
        message_id: uuid.UUID,
        campaign: _Campaign,
        identity_id: uuid.UUID,
        locale: str | None,
    ) -> Message:
        """The message, without its ``To`` and ``Date`` (added at send time)."""
        setup = self._setup
        base = setup.base_url.rstrip("/")
        unsubscribe = unsubscribe_token(setup.secret_key, identity_id, POLICY_NOTICES_LIST)
        links: dict[str, str | None] = {
            "policy_url": policy_page_url(
                base, campaign.property_key, campaign.document_key, campaign.version
            ),
            "diff_url": (
                policy_diff_url(
                    base,
                    campaign.property_key,
                    campaign.document_key,
                    campaign.previous_version,
                    campaign.version,
                )
                if campaign.previous_version is not None
                else None
            ),
            "preferences_url": f"{base}/preferences/?token="
            + preferences_token(setup.secret_key, identity_id),
            "unsubscribe_url": f"{base}/v1/email/unsubscribe?token={unsubscribe}",
        }
        chosen = choose_locale(locale, campaign.default_locale, template_locales())
        notice = render_notice(campaign, chosen, links)
        # compat32 MIME classes, not EmailMessage: the modern policy parses every header it
        # is given through the header registry, which was half of a message's cost (~6 ms).
        message = MIMEMultipart("alternative", policy=COMPAT32)
        # A Header, not its encoded text: the generator then folds it as encoded words.
        message["Subject"] = cast(str, Header(notice.subject, "utf-8", header_name="Subject"))
        message["From"] = setup.from_address
        if setup.reply_to:
            message["Reply-To"] = setup.reply_to
        # Stable per outbox row: a resend after a crash is recognisably the same message.
        message["Message-ID"] = f"<{message_id.hex}@{self._domain}>"
        unsubscribe_targets = [f"<{links['unsubscribe_url']}>"]
        if setup.unsubscribe_mailto:
            unsubscribe_targets.append(f"<mailto:{setup.unsubscribe_mailto}?subject=unsubscribe>")
        message["List-Unsubscribe"] = ", ".join(unsubscribe_targets)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
        message["Auto-Submitted"] = "auto-generated"
        message["Content-Language"] = notice.locale
        message.attach(MIMEText(notice.text, "plain", "utf-8"))
        message.attach(MIMEText(notice.html, "html", "utf-8"))
        return message

    def _send(self, message: Message, address: str) -> Outcome:
        self._throttle.wait()
        del message["To"], message["Date"]
        message["To"] = address
        message["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
        return self._transport.send(message, self._sender, address)

    def _campaigns(self, session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Campaign]:
        if not ids:
            return {}
        rows = session.execute(
            sa.select(EmailCampaign, PolicyVersion, PolicyDocument, Property)
            .join(PolicyVersion, PolicyVersion.id == EmailCampaign.policy_version_id)
            .join(PolicyDocument, PolicyDocument.id == PolicyVersion.document_id)
            .join(Property, Property.id == EmailCampaign.property_id)
            .where(EmailCampaign.id.in_(ids))
        ).all()
        found: dict[uuid.UUID, _Campaign] = {}
        for campaign, version, document, prop in rows:
            assert version.number is not None
            previous = session.scalar(
                sa.select(sa.func.max(PolicyVersion.number)).where(
                    PolicyVersion.document_id == document.id,
                    PolicyVersion.status == VersionStatus.PUBLISHED,
                    PolicyVersion.number < version.number,
                )
            )
            found[campaign.id] = _Campaign(
                id=campaign.id,
                property_id=prop.id,
                property_key=prop.key,
                property_name=prop.name,
                default_locale=prop.default_locale,
                controller=dict(prop.controller or {}),
                document_key=document.key,
                version=version.number,
                previous_version=previous,
                effective_at=version.effective_at or version.published_at or campaign.created_at,
                change_summary=dict(version.change_summary or {}),
                asks_again=version.material,
                affected_purposes=self._purpose_names(session, prop.id, version),
                site=site_of(prop.allowed_origins or [], prop.name),
            )
        return found

    @staticmethod
    def _purpose_names(
        session: Session, property_id: int, version: PolicyVersion
    ) -> list[dict[str, str]]:
        """{locale: name} of each purpose the version affects, in the banner's order."""
        if not version.material or not version.affected_purposes:
            return []
        rows = session.execute(
            sa.select(Purpose.key, Purpose.texts)
            .where(Purpose.property_id == property_id, Purpose.key.in_(version.affected_purposes))
            .order_by(Purpose.position)
        )
        return [
            {locale: text.get("name") or key for locale, text in (texts or {}).items()}
            or {FALLBACK_LOCALE: key}
            for key, texts in rows
        ]
