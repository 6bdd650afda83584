"""The one per-process cache: entries expire after a fixed time, for what changes rarely
(a publication, a revoked key) but is read on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FOREVER = float("inf")


class TtlCache(Generic[K, V]):
    """``get(key, load)`` returns a value at most ``ttl`` seconds old (0: never cached;
    ``FOREVER``: kept until the cache is full). Bounded: a full cache starts again empty.

    Loads are not deduplicated across threads: two may load the same key at once, which
    costs one extra query and keeps the hot path free of waiting.
    """

    def __init__(
        self, ttl: float, *, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        if self._ttl <= 0:
            return load()
        now = self._clock()
        cached = self._fresh(key, now)
        if cached is not None:
            return cached[1]
        value = load()
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value

    def peek(self, key: K) -> V | None:
        """The value ``get`` would return without loading; None when it would load."""
        cached = self._fresh(key, self._clock())
        return None if cached is None else cached[1]

    def _fresh(self, key: K, now: float) -> tuple[float, V] | None:
        cached = self._entries.get(key)
        return cached if cached is not None and now - cached[0] < self._ttl else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
