"""A real SMTP server for the notification tests (aiosmtpd on 127.0.0.1) and helpers to
seed customers, publish a material version and run the email channel in-process.

No tests here: the other ``test_notifications_*`` modules import it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Callable
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.orm import Session

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.integrations.identity import convert_identity
from consent_service.messaging.email import EmailSetup
from consent_service.messaging.email import SmtpConfig
from consent_service.messaging.worker import BatchReport
from consent_service.messaging.worker import build_worker
from consent_service.models import Identity
from consent_service.models import PolicyVersion
from consent_service.models.base import new_id
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property

SUMMARY = {
    "en": "We now keep order data for 6 years.",
    "de": "Wir speichern Bestelldaten jetzt 6 Jahre.",
    "fr": "Nous conservons désormais les commandes 6 ans.",
}


class Sink:
    """Collects every accepted message; answers can be scripted per stage."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.data_answers: list[str] = []  # answered (instead of 250) to the next DATAs
        self.refused: dict[str, str] = {}  # recipient -> RCPT answer
        self.on_mail: Callable[[int], None] | None = None  # called at each MAIL FROM
        self.mails = 0
        self._lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        self.mails += 1
        if self.on_mail is not None:
            self.on_mail(self.mails)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            if self.data_answers:
                return self.data_answers.pop(0)
            self.messages.append(BytesParser(policy=default).parsebytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_sink() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def setup_for(app: Flask, port: int, **overrides: Any) -> EmailSetup:
    settings = app.extensions["consent_settings"]
    values: dict[str, Any] = {
        "vault": app.extensions["vault"],
        "smtp": SmtpConfig(host="127.0.0.1", port=port, timeout=5),
        "from_address": "Northwind Privacy <privacy@northwind.example>",
        "reply_to": "privacy@northwind.example",
        "base_url": settings.base_url,
        "secret_key": settings.secret_key,
        "rate_per_second": 0,
    }
    values.update(overrides)
    return EmailSetup(**values)


def send_due(
    app: Flask, session: Session, port: int, at: dt.datetime | None = None, **overrides: Any
) -> BatchReport:
    """Run an in-process worker (email + webhooks) until nothing is due."""
    worker = build_worker(
        session,
        vault=app.extensions["vault"],
        allow_private_networks=True,
        batch_size=50,
        clock=(lambda: at) if at else utcnow,
        email=setup_for(app, port, **overrides),
    )
    return worker.run(once=True)


def add_customer(
    app: Flask,
    session: Session,
    email: str | None,
    *,
    locale: str | None = None,
    property_key: str = "demo-shop",
) -> Identity:
    vault = app.extensions["vault"]
    prop = get_property(session, property_key)
    # Written as an earlier release did, then converted: sealed with the person's own key.
    identity = Identity(
        id=new_id(),
        property_id=prop.id,
        customer_ref=f"ref-{email or id(locale)}",
        email_ciphertext=vault.cipher.encrypt(email, context=f"email:{prop.id}") if email else None,
        email_index=vault.email_index(prop.id, email) if email else None,
        locale=locale,
    )
    convert_identity(vault, identity, now=utcnow())
    session.add(identity)
    session.flush()
    return identity


def publish_version(
    session: Session, *, material: bool = True, document_key: str = "privacy-policy"
) -> PolicyVersion:
    document = get_document(session, "demo-shop", document_key)
    draft = create_draft(
        session, document, "# Policy\n\nNew text.\n", material=material, change_summary=SUMMARY
    )
    return publish(session, draft)
