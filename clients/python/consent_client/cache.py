"""A short memory of answers, so a hot loop does not ask the service the same question.

The rules keep the cache from ever turning "no" into "yes" or outliving a consent:
failures are never remembered (the next call asks again), and an answer is forgotten after
``ttl`` seconds or at its own ``expires_at``, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from consent_client.decision import Decision
from consent_client.decision import Reason


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DecisionCache:
    """Answers by (subject, purpose); thread-safe, least recently used out first."""

    def __init__(
        self,
        ttl: float,
        max_entries: int = 10_000,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._now = now
        self._entries: OrderedDict[tuple[str, str], tuple[float, Decision]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject: str, purpose: str) -> Decision | None:
        key = (subject, purpose)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            deadline, decision = entry
            if self._monotonic() >= deadline or self._outlived(decision):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return decision

    def put(self, decision: Decision) -> None:
        """Remember ``decision`` if it is a real answer and still has time to live."""
        if self.ttl <= 0 or self.max_entries <= 0:
            return
        if decision.reason is Reason.ERROR or decision.error is not None:
            return
        lifetime = self.ttl
        if decision.expires_at is not None:
            lifetime = min(lifetime, (decision.expires_at - self._now()).total_seconds())
        if lifetime <= 0:
            return
        key = (decision.subject, decision.purpose)
        with self._lock:
            self._entries[key] = (self._monotonic() + lifetime, decision)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, *subjects: str) -> None:
        """Drop what is known about ``subjects`` (everything when none is named), e.g. on a
        ``consent.changed`` webhook."""
        with self._lock:
            if not subjects:
                self._entries.clear()
                return
            gone = set(subjects)
            for key in [key for key in self._entries if key[0] in gone]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def _outlived(self, decision: Decision) -> bool:
        # Checked on the wall clock too: a monotonic deadline cannot see the clock jump ahead.
        return decision.expires_at is not None and self._now() >= decision.expires_at
