"""Each property's consent context, kept per process while the database says it is current.

A context is reused only while its ``config_version`` is the property's in the database
(every change to what a property offers bumps it, in whichever process or connection made
it) and no published version has come into effect since it was read (``valid_until``). The
hot paths do not ask the database separately: each already runs a statement that can read
the property's ``config_version`` alongside (a look-up's states query, a consent's subject
upsert) and hands it to :meth:`ContextCache.is_current`; on a mismatch they read the context
again and redo their work with it. So a change is seen by the very next request anywhere,
and an unchanged property costs no query of its own.
"""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy.orm import Session

from consent_service.properties.config_version import config_version_of
from consent_service.properties.lookup import ConsentContext
from consent_service.properties.lookup import consent_context


class ContextCache:
    """Consent contexts by property key, bounded (a full cache starts again empty)."""

    def __init__(self, *, max_entries: int = 1024) -> None:
        self._max_entries = max_entries
        self._entries: dict[str, ConsentContext] = {}
        self._lock = threading.Lock()

    def get(
        self, session: Session, property_key: str, *, now: dt.datetime
    ) -> tuple[ConsentContext, bool]:
        """(the context, whether it was read just now). A context not read just now must be
        confirmed with :meth:`is_current` against the ``config_version`` the caller reads."""
        cached = self._entries.get(property_key)
        if cached is not None and (cached.valid_until is None or now < cached.valid_until):
            return cached, False
        return self.load(session, property_key, now=now), True

    def load(self, session: Session, property_key: str, *, now: dt.datetime) -> ConsentContext:
        """Read the context from the database and keep it."""
        context = consent_context(session, property_key, now=now)
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[property_key] = context
        return context

    def confirmed(self, session: Session, property_key: str, *, now: dt.datetime) -> ConsentContext:
        """The context, confirmed by a query of its own: for callers with no statement of their
        own to read ``config_version`` alongside (consent tokens)."""
        context, just_read = self.get(session, property_key, now=now)
        if just_read or self.is_current(context, config_version_of(session, property_key)):
            return context
        return self.load(session, property_key, now=now)

    @staticmethod
    def is_current(context: ConsentContext, config_version: int | None) -> bool:
        """Whether ``context`` is the property's as the database has it now (``None``: the
        property is gone)."""
        return config_version == context.config_version

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
