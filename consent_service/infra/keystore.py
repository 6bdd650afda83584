"""Each person's own data key, kept outside the main database: crypto-shredding.

Every identity gets 32 random bytes that seal its email and customer reference in the main
database (``pii.seal_for_person``). The key is stored here only wrapped (AES-GCM under the
current ``CONSENT_DATA_KEYS`` key, key id inside, bound to the identity id), in a database of
its own: a SQLite file in the instance folder by default, ``CONSENT_KEY_STORE_URL`` in
production, backed up separately and kept briefly. Erasure deletes the person's row here, so
their ciphertexts in the main database, and in every backup of it, can no longer be opened.

Fail closed: a store that cannot be reached raises :class:`KeyStoreUnavailable` (a 503), never
a plaintext write; a key that is gone reads as "erased" (``None``), never as a crash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.engine import make_url

from consent_service.errors import KeyStoreUnavailable
from consent_service.infra.pii import PERSON_KEY_BYTES
from consent_service.infra.pii import Cipher
from consent_service.infra.pii import kid_of

log = logging.getLogger(__name__)

RETRY_AFTER = 5
KEY_STORE_FILE = "keys.db"
_CHUNK = 500

_metadata = sa.MetaData()
person_keys = sa.Table(
    "person_keys",
    _metadata,
    sa.Column("identity_id", sa.Uuid, primary_key=True),
    # Which master key wraps it: rotation re-wraps the rows whose kid is not the current one.
    sa.Column("kid", sa.String(64), nullable=False, index=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclasses.dataclass(frozen=True)
class KeyStoreStatus:
    """How many person keys each master key wraps, and which of those kids are configured."""

    by_kid: dict[str, int]
    current_kid: str
    unknown_kids: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.by_kid.values())


class KeyStore:
    """Person keys by identity id, wrapped under the master data keys (``cipher``).

    Each call is its own short transaction on the store's own engine: the store is not part
    of the main database's transaction. A key created for a transaction that then rolls back
    is an orphan (harmless: nothing is sealed with it); a key shredded for an erasure whose
    transaction then fails leaves that person reading as erased, the safe side.
    """

    def __init__(self, url: str, cipher: Cipher, *, connect_timeout: int = 3) -> None:
        self.url = url
        self._cipher = cipher
        self._engine = sa.create_engine(url, **_engine_options(url, connect_timeout))
        self._schema_ready = False
        self._lock = threading.Lock()

    @property
    def current_kid(self) -> str:
        return self._cipher.current_kid

    def close(self) -> None:
        self._engine.dispose()

    # --- one person -------------------------------------------------------------------------

    def key_for(self, identity_id: uuid.UUID, *, now: dt.datetime) -> bytes:
        """The person's key, made (and stored wrapped) the first time."""
        found = self.keys_of([identity_id]).get(identity_id)
        if found is not None:
            return found
        key = os.urandom(PERSON_KEY_BYTES)
        try:
            with self._begin() as connection:
                connection.execute(
                    person_keys.insert().values(
                        identity_id=identity_id,
                        kid=self._cipher.current_kid,
                        wrapped=self._wrap(identity_id, key),
                        created_at=now,
                    )
                )
        except sa_exc.IntegrityError:
            # Another process made it at the same moment: theirs is the key.
            winner = self.keys_of([identity_id]).get(identity_id)
            assert winner is not None, "a person key vanished between insert and read"
            return winner
        return key

    def shred(self, identity_id: uuid.UUID) -> int:
        """Delete the person's key: 1 if there was one, 0 if it was already gone."""
        return self.shred_all([identity_id])

    # --- many -------------------------------------------------------------------------------

    def shred_all(self, identity_ids: Iterable[uuid.UUID]) -> int:
        """Delete these people's keys in one transaction (the retention job's batch); returns
        how many there were."""
        wanted = list(dict.fromkeys(identity_ids))
        deleted = 0
        with self._begin() as connection:
            for start in range(0, len(wanted), _CHUNK):
                result = connection.execute(
                    person_keys.delete().where(
                        person_keys.c.identity_id.in_(wanted[start : start + _CHUNK])
                    )
                )
                deleted += int(result.rowcount or 0)
        return deleted

    def keys_of(self, identity_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        """The keys of those who have one; an identity missing from the answer was erased
        (or never had data sealed)."""
        wanted = list(dict.fromkeys(identity_ids))
        found: dict[uuid.UUID, bytes] = {}
        with self._begin() as connection:
            for start in range(0, len(wanted), _CHUNK):
                rows = connection.execute(
                    sa.select(person_keys.c.identity_id, person_keys.c.wrapped).where(
                        person_keys.c.identity_id.in_(wanted[start : start + _CHUNK])
                    )
                )
                for identity_id, wrapped in rows:
                    found[identity_id] = self._unwrap(identity_id, wrapped)
        return found

    def rewrap(self, *, batch_size: int = 500) -> int:
        """Re-wrap every key not under the current master key, a batch per transaction;
        returns how many were re-wrapped. Idempotent: a second run finds none."""
        current = self._cipher.current_kid
        done = 0
        while True:
            with self._begin() as connection:
                rows = connection.execute(
                    sa.select(person_keys.c.identity_id, person_keys.c.kid, person_keys.c.wrapped)
                    .where(person_keys.c.kid != current)
                    .order_by(person_keys.c.identity_id)
                    .limit(batch_size)
                ).all()
                for identity_id, kid, wrapped in rows:
                    key = self._unwrap(identity_id, wrapped)
                    connection.execute(
                        person_keys.update()
                        .where(person_keys.c.identity_id == identity_id, person_keys.c.kid == kid)
                        .values(kid=current, wrapped=self._wrap(identity_id, key))
                    )
            done += len(rows)
            if len(rows) < batch_size:
                return done

    def status(self, configured_kids: Iterable[str]) -> KeyStoreStatus:
        with self._begin() as connection:
            rows = connection.execute(
                sa.select(person_keys.c.kid, sa.func.count()).group_by(person_keys.c.kid)
            ).all()
        by_kid = {str(kid): int(count) for kid, count in rows}
        configured = set(configured_kids)
        unknown = tuple(sorted(kid for kid in by_kid if kid not in configured))
        return KeyStoreStatus(by_kid, self._cipher.current_kid, unknown)

    # --- inside -----------------------------------------------------------------------------

    def _wrap(self, identity_id: uuid.UUID, key: bytes) -> bytes:
        return self._cipher.seal(key, context=f"person-key:{identity_id}")

    def _unwrap(self, identity_id: uuid.UUID, wrapped: bytes) -> bytes:
        # An UndecryptableData here (a master key removed too early) is the operator's fault
        # and must stop the request, never read as "erased".
        return self._cipher.open(wrapped, context=f"person-key:{identity_id}")

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            self._ensure_schema()
            with self._engine.begin() as connection:
                yield connection
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            log.error("the key store at %s is not answering: %s", self._safe_url(), exc)
            raise KeyStoreUnavailable(
                "the key store that seals personal data is not answering",
                retry_after=RETRY_AFTER,
            ) from None

    def _ensure_schema(self) -> None:
        """The store's one table, created on first use: ``make run`` needs no extra step,
        and a production store needs only an empty database the service may create in."""
        if self._schema_ready:
            return
        with self._lock:
            if not self._schema_ready:
                _metadata.create_all(self._engine, checkfirst=True)
                self._schema_ready = True

    def _safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


def wrapped_kid(wrapped: bytes) -> str | None:
    """The master key id a wrapped person key names (for tests and status)."""
    return kid_of(wrapped)


def _engine_options(url: str, connect_timeout: int) -> dict[str, object]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": connect_timeout}}
    return {
        "pool_pre_ping": True,
        "pool_timeout": connect_timeout,
        "hide_parameters": True,
        "connect_args": {"connect_timeout": max(2, connect_timeout)},
    }
