"""Server-side session records (``web_sessions``) for the admin and the preferences page.

A session is a random token in the browser's cookie and a row found by the token's hash. Each
request opens the row (:meth:`SessionRecords.open`): missing, revoked, idle too long or past its
absolute lifetime, the session has ended, for every copy of the cookie at once. A visit is
recorded (:meth:`SessionRecords.touch`, a write the caller commits) at most once per
``touch_every`` (a minute), so a busy session does not write on every request; an idle session
may therefore end up to that much early. Starting a session prunes
the spent rows (one indexed DELETE), so the table holds about the sessions alive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import secrets
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.infra.database import execute_core
from consent_service.models import WebSession
from consent_service.models.base import table_of
from consent_service.models.base import utcnow

TOUCH_EVERY = dt.timedelta(minutes=1)
_SESSIONS = table_of(WebSession)


class SessionKind(enum.StrEnum):
    ADMIN = "admin"
    PREFERENCES = "preferences"


class Ended(enum.StrEnum):
    """Why an open found no live session."""

    UNKNOWN = "unknown"  # no such token (never issued, forged, or pruned)
    REVOKED = "revoked"
    IDLE = "idle"
    ABSOLUTE = "absolute"


@dataclasses.dataclass(frozen=True)
class Lifetime:
    idle: dt.timedelta
    absolute: dt.timedelta


class SessionRecords:
    """Starts, opens and revokes session rows; ``clock`` is injectable (the tests move it)."""

    def __init__(
        self,
        clock: Callable[[], dt.datetime] = utcnow,
        *,
        touch_every: dt.timedelta = TOUCH_EVERY,
    ) -> None:
        self.clock = clock
        self.touch_every = touch_every

    def now(self) -> dt.datetime:
        return self.clock()

    def start(
        self,
        session: Session,
        kind: SessionKind,
        lifetime: Lifetime,
        *,
        expires_at: dt.datetime | None = None,
        **owner: object,
    ) -> tuple[str, WebSession]:
        """A new session for ``owner`` (the row's owner columns); returns the token for the
        cookie (never stored) and the row. ``expires_at`` keeps an earlier absolute end (a
        session that changed privilege keeps its sign-in's)."""
        now = self.now()
        prune(session, now)
        token = secrets.token_urlsafe(32)
        absolute = now + lifetime.absolute
        if expires_at is not None:
            absolute = min(absolute, expires_at)
        record = WebSession(
            id=token_hash(token),
            kind=kind.value,
            created_at=now,
            last_seen_at=now,
            idle_expires_at=min(now + lifetime.idle, absolute),
            expires_at=absolute,
            **owner,
        )
        session.add(record)
        session.flush()
        return token, record

    def open(
        self, session: Session, kind: SessionKind, token: str, lifetime: Lifetime
    ) -> WebSession | Ended:
        """The live session ``token`` names, or why there is none."""
        record = session.get(WebSession, token_hash(token)) if token else None
        if record is None or record.kind != kind.value:
            return Ended.UNKNOWN
        now = self.now()
        if record.revoked_at is not None:
            return Ended.REVOKED
        if record.expires_at <= now:
            return Ended.ABSOLUTE
        if record.idle_expires_at <= now:
            return Ended.IDLE
        return record

    def due(self, record: WebSession) -> bool:
        """Whether this visit is to be recorded (at most once per ``touch_every``)."""
        return self.now() - record.last_seen_at >= self.touch_every

    def touch(self, session: Session, record: WebSession, lifetime: Lifetime) -> None:
        """Record a visit: the idle limit starts again (never past the absolute one)."""
        now = self.now()
        record.last_seen_at = now
        record.idle_expires_at = min(now + lifetime.idle, record.expires_at)
        session.flush()

    def revoke(self, session: Session, record_id: str) -> None:
        _revoke(session, self.now(), _SESSIONS.c.id == record_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_admin_sessions(
    session: Session, admin_user_id: uuid.UUID, now: dt.datetime, *, keep: str | None = None
) -> None:
    """End every session of an account (but ``keep``, the one that made the change)."""
    where = _SESSIONS.c.admin_user_id == admin_user_id
    if keep is not None:
        where = sa.and_(where, _SESSIONS.c.id != keep)
    _revoke(session, now, where)


def revoke_preferences_sessions(
    session: Session,
    now: dt.datetime,
    *,
    identity_id: uuid.UUID | None = None,
    property_id: int | None = None,
    visitor_ids: list[uuid.UUID] | None = None,
) -> None:
    """End the preferences sessions of a customer and of the given browsers of a property."""
    conditions = []
    if identity_id is not None:
        conditions.append(_SESSIONS.c.identity_id == identity_id)
    if property_id is not None and visitor_ids:
        conditions.append(
            sa.and_(_SESSIONS.c.property_id == property_id, _SESSIONS.c.visitor_id.in_(visitor_ids))
        )
    if conditions:
        _revoke(session, now, sa.or_(*conditions))


def prune(session: Session, now: dt.datetime) -> None:
    """Delete the rows whose session has ended by time (revoked ones go when they would have
    expired: until then they say why a cookie stopped working)."""
    execute_core(session, sa.delete(_SESSIONS).where(_SESSIONS.c.idle_expires_at <= now))


def _revoke(session: Session, now: dt.datetime, where: sa.ColumnElement[bool]) -> None:
    session.flush()
    execute_core(
        session,
        sa.update(_SESSIONS).where(where, _SESSIONS.c.revoked_at.is_(None)).values(revoked_at=now),
    )
