"""Integration API keys: scoped, bound to one property, stored only as a hash, shown once.

A key reads ``csk_<public id>_<secret>``: the prefix makes leaked keys easy to find in code
and logs (secret scanners match it), the public id finds the row without scanning, and only
the SHA-256 of the secret is kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import InsufficientScope
from consent_service.errors import InvalidCredentials
from consent_service.errors import UnknownApiKey
from consent_service.errors import ValidationFailed
from consent_service.infra.audit import Actor
from consent_service.infra.audit import record_as
from consent_service.infra.ttl_cache import TtlCache
from consent_service.models import ApiKey
from consent_service.models import Property
from consent_service.models.base import table_of
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property

PREFIX = "csk_"
_KEY_PATTERN = re.compile(r"^csk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_RATE_LIMIT_PATTERN = re.compile(r"^\d{1,7}\s*/\s*\d{0,4}\s*(second|minute|hour|day)s?$")


class Scope(enum.StrEnum):
    CONSENT_READ = "consent:read"
    CONSENT_WRITE = "consent:write"
    SUBJECTS_WRITE = "subjects:write"
    WEBHOOKS_MANAGE = "webhooks:manage"


@dataclasses.dataclass(frozen=True)
class Caller:
    """An authenticated integration: what every integration endpoint acts on behalf of."""

    key_id: uuid.UUID
    public_id: str
    property_id: int
    property_key: str
    scopes: frozenset[str]
    rate_limit: str | None
    last_used_at: dt.datetime | None

    def require(self, scope: Scope) -> None:
        if scope.value not in self.scopes:
            raise InsufficientScope(
                f"API key {self.public_id} lacks the {scope.value!r} scope this call needs"
            )


@dataclasses.dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


def create_api_key(
    session: Session,
    property_key: str,
    *,
    name: str,
    scopes: Iterable[str],
    rate_limit: str | None = None,
) -> IssuedKey:
    prop = get_property(session, property_key)
    scope_list = sorted(set(scopes))
    errors = [
        FieldError("/scopes", f"unknown scope {scope!r}")
        for scope in scope_list
        if scope not in {s.value for s in Scope}
    ]
    if not scope_list:
        errors.append(FieldError("/scopes", "at least one scope is required"))
    if not name.strip() or len(name) > 100:
        errors.append(FieldError("/name", "a name of 1 to 100 characters is required"))
    if rate_limit is not None and not _RATE_LIMIT_PATTERN.match(rate_limit.strip()):
        errors.append(FieldError("/rate_limit", "must read like '600/minute'"))
    if errors:
        raise ValidationFailed("the API key cannot be created as asked", errors=errors)
    public_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        property_id=prop.id,
        name=name.strip(),
        public_id=public_id,
        secret_sha256=_digest(secret),
        scopes=scope_list,
        rate_limit=rate_limit.strip() if rate_limit else None,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key, f"{PREFIX}{public_id}_{secret}")


def record_key_created(session: Session, who: Actor, issued: IssuedKey, property_key: str) -> None:
    """Audit a new key in the transaction that made it: every surface that issues credentials
    (admin, CLI) calls this, so the log knows of every key that can read consent."""
    record_as(
        session,
        who,
        "api_key.created",
        target_type="api_key",
        target_id=issued.key.public_id,
        before=None,
        after={
            "property": property_key,
            "name": issued.key.name,
            "scopes": issued.key.scopes,
            "rate_limit": issued.key.rate_limit,
        },
    )


def record_key_revoked(session: Session, who: Actor, key: ApiKey) -> None:
    """Audit a revocation made outside the admin (which says it in its own words)."""
    record_as(
        session,
        who,
        "api_key.revoked",
        target_type="api_key",
        target_id=key.public_id,
        before={"revoked": False},
        after={"revoked": True, "name": key.name},
    )


def list_api_keys(session: Session, property_key: str | None = None) -> list[tuple[ApiKey, str]]:
    """Every key (revoked ones too, for the record) with its property's key."""
    query = (
        sa.select(ApiKey, Property.key)
        .join(Property, Property.id == ApiKey.property_id)
        .order_by(Property.key, ApiKey.created_at)
    )
    if property_key is not None:
        query = query.where(Property.key == property_key)
    return [(key, prop_key) for key, prop_key in session.execute(query)]


def revoke_api_key(session: Session, public_id: str, *, now: dt.datetime | None = None) -> ApiKey:
    key = session.scalar(sa.select(ApiKey).where(ApiKey.public_id == public_id))
    if key is None:
        raise UnknownApiKey(f"there is no API key {public_id!r}")
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()
    return key


def authenticate(session: Session, token: str) -> Caller:
    """The caller a bearer token names, or InvalidCredentials (never saying which part failed)."""
    match = _KEY_PATTERN.match(token)
    if match is None:
        raise InvalidCredentials("send a valid API key as 'Authorization: Bearer csk_...'")
    public_id, secret = match.groups()
    row = session.execute(
        sa.select(ApiKey, Property.key)
        .join(Property, Property.id == ApiKey.property_id)
        .where(ApiKey.public_id == public_id)
    ).first()
    # Compare even when no row was found, so timing does not tell which keys exist.
    expected = row[0].secret_sha256 if row else "0" * 64
    if not hmac.compare_digest(expected, _digest(secret)) or row is None:
        raise InvalidCredentials("the API key is not valid")
    key, property_key = row
    if key.revoked_at is not None:
        raise InvalidCredentials("the API key has been revoked")
    return Caller(
        key_id=key.id,
        public_id=key.public_id,
        property_id=key.property_id,
        property_key=property_key,
        scopes=frozenset(key.scopes),
        rate_limit=key.rate_limit,
        last_used_at=key.last_used_at,
    )


def mark_used_statement() -> sa.Update:
    """Records a key's last use: parameters ``key_id`` and ``used_at``, one set per key (run
    in the background, so a call never waits for the database's writer to record it)."""
    keys = table_of(ApiKey)
    return (
        sa.update(keys)
        .where(keys.c.id == sa.bindparam("key_id"))
        .values(last_used_at=sa.bindparam("used_at"))
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class CallerCache:
    """Verified callers by token digest, for ``ttl`` seconds (0: no caching).

    Keeps the key look-up off the hot path; a revocation therefore reaches other processes
    within ``ttl``. The process that revokes calls :meth:`forget` and sees it at once.
    It also rations ``last_used_at`` writes to one per key per minute per process.
    """

    LAST_USED_EVERY = 60.0

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._callers: TtlCache[str, Caller] = TtlCache(ttl, max_entries=10_000, clock=clock)
        self._last_marked: TtlCache[uuid.UUID, object] = TtlCache(
            self.LAST_USED_EVERY, max_entries=10_000, clock=clock
        )

    def caller(self, token: str, load: Callable[[], Caller]) -> Caller:
        return self._callers.get(_digest(token), load)

    def forget(self) -> None:
        self._callers.clear()

    def due_for_last_used(self, caller: Caller) -> bool:
        """Whether this process should record that the key was used (at most once a minute):
        only the call that finds no mark younger than a minute leaves a new one."""
        mark = object()
        return self._last_marked.get(caller.key_id, lambda: mark) is mark
