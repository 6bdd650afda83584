"""Who may use the self-service preferences page, and as whom (ARCHITECTURE §7).

Three ways in, each ending in the same kind of session: a server-side record
(``web_sessions``) whose random token is the cookie, so signing out or being erased ends it
for every copy of the cookie:

* **visitor link**: the widget asks for it with the visitor id from its first-party cookie
  (``POST /v1/preferences/link``); knowing that random id is what proves the visitor, exactly
  as it is for recording their consent. Valid 15 minutes.
* **magic link**: a customer types their email; if the service knows it, a single-use link
  valid 15 minutes is emailed (through the outbox). The answer is the same either way.
* **notice link**: the link in policy-change emails (``notifications.preferences_token``).

Every link's token is an itsdangerous token signed with the app's secret key, each kind with its own
salt, so one kind can never be replayed as another. A magic link's token names only its row;
the row makes it single use (a conditional UPDATE claims it) and bounds its life.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from http import HTTPStatus

import sqlalchemy as sa
from itsdangerous import BadData
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from consent_service.errors import ConsentServiceError
from consent_service.infra.database import execute_core
from consent_service.infra.pii import Vault
from consent_service.infra.pii import normalise_email
from consent_service.infra.sessions import Ended
from consent_service.infra.sessions import Lifetime
from consent_service.infra.sessions import SessionKind
from consent_service.infra.sessions import SessionRecords
from consent_service.infra.timed_tokens import dated_signer
from consent_service.messaging.campaigns import CHANNEL as EMAIL_CHANNEL
from consent_service.messaging.campaigns import MAGIC_LINK_EVENT
from consent_service.messaging.campaigns import MAGIC_LINK_LIFETIME
from consent_service.messaging.campaigns import MAGIC_LINK_SALT
from consent_service.messaging.campaigns import InvalidLinkToken
from consent_service.messaging.campaigns import verify_preferences_token
from consent_service.messaging.outbox import NewMessage
from consent_service.messaging.outbox import enqueue
from consent_service.models import Identity
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import Subject
from consent_service.models import WebSession
from consent_service.models.base import new_id
from consent_service.models.base import table_of

VISITOR_LINK_SALT = "consent-service/visitor-link/v1"
LINK_LIFETIME = MAGIC_LINK_LIFETIME
# A session lasts at most this long after sign-in, and ends after this long unused.
SESSION_LIFETIME = dt.timedelta(hours=2)
SESSION_IDLE = dt.timedelta(minutes=30)
PREFERENCES_SESSION = Lifetime(idle=SESSION_IDLE, absolute=SESSION_LIFETIME)


class Via(enum.StrEnum):
    VISITOR_LINK = "visitor-link"
    MAGIC_LINK = "magic-link"
    NOTICE_LINK = "notice-link"


class LinkProblem(enum.StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    ERASED = "erased"


class SignInRefused(ConsentServiceError):
    """A link that does not sign anyone in; ``problem`` says why (shown to the person).

    Only the preferences pages meet it, and explain it in the person's language (410 for a
    spent link, 400 otherwise), so it is not a documented problem type.
    """

    code = "sign-in-refused"
    title = "The link does not sign anyone in"
    status = HTTPStatus.BAD_REQUEST

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclasses.dataclass(frozen=True)
class Access:
    """Whose choices a preferences session manages: a customer (``identity_id``) or one
    anonymous browser (``visitor_id``), on one property."""

    property_id: int
    visitor_id: uuid.UUID | None
    identity_id: uuid.UUID | None
    via: Via
    signed_in_at: dt.datetime

    @property
    def is_customer(self) -> bool:
        return self.identity_id is not None


def _serializer(
    secret_key: str, salt: str, *, signed_at: dt.datetime | None = None
) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt, signer=dated_signer(signed_at))


def _loads(secret_key: str, salt: str, token: str, max_age: dt.timedelta) -> object:
    try:
        return _serializer(secret_key, salt).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise SignInRefused(LinkProblem.EXPIRED) from None
    except BadData:
        raise SignInRefused(LinkProblem.INVALID) from None


# --- visitor links ---------------------------------------------------------------------------


def visitor_link_token(
    secret_key: str,
    property_id: int,
    visitor_id: uuid.UUID,
    *,
    signed_at: dt.datetime | None = None,
) -> str:
    serializer = _serializer(secret_key, VISITOR_LINK_SALT, signed_at=signed_at)
    return str(serializer.dumps([property_id, visitor_id.hex]))


def sign_in_visitor(session: Session, secret_key: str, token: str, now: dt.datetime) -> Access:
    """The access a widget's visitor link grants, or SignInRefused."""
    data = _loads(secret_key, VISITOR_LINK_SALT, token, LINK_LIFETIME)
    if not (isinstance(data, list) and len(data) == 2):
        raise SignInRefused(LinkProblem.INVALID)
    try:
        property_id = int(data[0])
        visitor_id = uuid.UUID(hex=str(data[1]))
    except (TypeError, ValueError):
        raise SignInRefused(LinkProblem.INVALID) from None
    erased = session.scalar(
        sa.select(Subject.erased_at).where(
            Subject.property_id == property_id, Subject.visitor_id == visitor_id
        )
    )
    if erased is not None:
        raise SignInRefused(LinkProblem.ERASED)
    return Access(property_id, visitor_id, None, Via.VISITOR_LINK, now)


# --- magic links -----------------------------------------------------------------------------


def request_magic_link(
    session: Session,
    vault: Vault,
    property_id: int,
    email: str,
    *,
    locale: str | None,
    now: dt.datetime,
) -> bool:
    """Queue a sign-in link to ``email`` if it is a (not erased) customer's; True if queued.

    The caller must answer the same whatever this returns, so nobody can probe for customers;
    and it answers after the same work: an unknown address costs the same statements and a
    write as durable as a known one's (see :func:`_as_much_work_for_nobody`).
    """
    index = vault.email_index(property_id, normalise_email(email))
    identity_id = session.scalar(
        sa.select(Identity.id).where(
            Identity.property_id == property_id,
            Identity.email_index == index,
            Identity.erased_at.is_(None),
        )
    )
    if identity_id is None:
        _as_much_work_for_nobody(session, property_id, now)
        return False
    _queue_magic_link(session, property_id, identity_id, locale, now)
    return True


def _as_much_work_for_nobody(session: Session, property_id: int, now: dt.datetime) -> None:
    """What queuing a link costs, for an address that is nobody's: two statements writing as
    many rows as a known address does, which the same transaction takes back (two outbox
    messages, then their deletion), so the commit flushes a write as it does for a known
    address and no timing tells them apart. Nobody ever sees the messages: they are gone
    before the transaction commits."""
    messages = [
        NewMessage(property_id, EMAIL_CHANNEL, MAGIC_LINK_EVENT, _link_payload(new_id()))
        for _ in range(2)  # as many rows as a known address writes (a link and its email)
    ]
    enqueue(session, messages, now=now)
    outbox = table_of(OutboxMessage)
    execute_core(session, sa.delete(outbox).where(outbox.c.id.in_([m.id for m in messages])))


def _link_payload(link_id: uuid.UUID) -> str:
    return json.dumps({"magic_link": str(link_id)}, separators=(",", ":"))


def request_confirmation_link(
    session: Session, access: Access, *, locale: str | None, now: dt.datetime
) -> bool:
    """A fresh sign-in link to the signed-in customer's own address (what exporting or
    erasing asks of a session that came from a long-lived notice link); False if they have
    no address."""
    if access.identity_id is None:
        return False
    has_address = session.scalar(
        sa.select(Identity.email_ciphertext.is_not(None)).where(
            Identity.id == access.identity_id, Identity.erased_at.is_(None)
        )
    )
    if not has_address:
        return False
    _queue_magic_link(session, access.property_id, access.identity_id, locale, now)
    return True


def _queue_magic_link(
    session: Session,
    property_id: int,
    identity_id: uuid.UUID,
    locale: str | None,
    now: dt.datetime,
) -> None:
    """Two Core statements (the link, its email), as :func:`_as_much_work_for_nobody` makes."""
    link_id = new_id()
    execute_core(
        session,
        sa.insert(table_of(MagicLink)).values(
            id=link_id,
            property_id=property_id,
            identity_id=identity_id,
            locale=locale,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        ),
    )
    message = NewMessage(
        property_id,
        EMAIL_CHANNEL,
        MAGIC_LINK_EVENT,
        _link_payload(link_id),
        identity_id=identity_id,
    )
    enqueue(session, [message], now=now)


def _magic_link_id(secret_key: str, token: str) -> uuid.UUID:
    data = _loads(secret_key, MAGIC_LINK_SALT, token, LINK_LIFETIME)
    try:
        return uuid.UUID(hex=str(data))
    except ValueError:
        raise SignInRefused(LinkProblem.INVALID) from None


def check_magic_link(session: Session, secret_key: str, token: str, now: dt.datetime) -> None:
    """SignInRefused if the link could not sign anyone in; claims nothing (opening a link
    must not use it up: mail scanners open links)."""
    link = session.get(MagicLink, _magic_link_id(secret_key, token))
    if link is None:
        raise SignInRefused(LinkProblem.INVALID)
    if link.used_at is not None:
        raise SignInRefused(LinkProblem.USED)
    if link.expires_at <= now:
        raise SignInRefused(LinkProblem.EXPIRED)


def sign_in_with_magic_link(
    session: Session, secret_key: str, token: str, now: dt.datetime
) -> Access:
    """Claim the link (once, while it lives) and return its customer's access."""
    link_id = _magic_link_id(secret_key, token)
    links = table_of(MagicLink)
    claimed = execute_core(
        session,
        sa.update(links)
        .where(links.c.id == link_id, links.c.used_at.is_(None), links.c.expires_at > now)
        .values(used_at=now),
    )
    link = session.get(MagicLink, link_id)
    if link is None:
        raise SignInRefused(LinkProblem.INVALID)
    if claimed.rowcount != 1:
        session.refresh(link)
        raise SignInRefused(LinkProblem.USED if link.used_at else LinkProblem.EXPIRED)
    _refuse_if_erased(session, link.identity_id)
    return Access(link.property_id, None, link.identity_id, Via.MAGIC_LINK, now)


# --- links in policy-change emails -------------------------------------------------------------


def sign_in_with_notice_link(
    session: Session, secret_key: str, token: str, now: dt.datetime
) -> Access:
    try:
        identity_id = verify_preferences_token(secret_key, token)
    except InvalidLinkToken:
        raise SignInRefused(LinkProblem.INVALID) from None
    property_id = session.scalar(sa.select(Identity.property_id).where(Identity.id == identity_id))
    if property_id is None:
        raise SignInRefused(LinkProblem.INVALID)
    _refuse_if_erased(session, identity_id)
    return Access(property_id, None, identity_id, Via.NOTICE_LINK, now)


def _refuse_if_erased(session: Session, identity_id: uuid.UUID) -> None:
    erased = session.scalar(sa.select(Identity.erased_at).where(Identity.id == identity_id))
    if erased is not None:
        raise SignInRefused(LinkProblem.ERASED)


# --- the session ---------------------------------------------------------------------------


def start_session(session: Session, records: SessionRecords, access: Access) -> tuple[str, Access]:
    """A session record for ``access``: the token for the cookie (only its hash is stored) and
    the access as later requests will see it. The caller commits."""
    token, record = records.start(
        session,
        SessionKind.PREFERENCES,
        PREFERENCES_SESSION,
        property_id=access.property_id,
        identity_id=access.identity_id,
        visitor_id=access.visitor_id,
        via=access.via.value,
    )
    return token, _access_of(record)


def open_session(
    session: Session, records: SessionRecords, token: str
) -> tuple[WebSession, Access] | None:
    """The live session ``token`` names and its access, or None when it is missing, forged,
    idle too long, too old, or ended (sign-out, erasure of its person)."""
    opened = records.open(session, SessionKind.PREFERENCES, token, PREFERENCES_SESSION)
    if isinstance(opened, Ended):
        return None
    return opened, _access_of(opened)


def _access_of(record: WebSession) -> Access:
    assert record.property_id is not None and record.via is not None
    return Access(
        record.property_id,
        record.visitor_id,
        record.identity_id,
        Via(record.via),
        record.created_at,
    )
