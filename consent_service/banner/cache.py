"""Per-process cache of rendered banner configurations.

A banner is a pure function of (property config, jurisdiction, locale), and the property's
config is named by a small fingerprint — its ``config_version`` plus the number of the policy
version in effect. Each process re-reads the fingerprint at most every ``ttl`` seconds (one
light query), so a publication reaches every process within ``ttl`` and no process ever
serves a banner built from an older fingerprint after that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

F = TypeVar("F", bound=Hashable)
B = TypeVar("B")


class BannerCache(Generic[F, B]):
    def __init__(
        self, *, ttl: float, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._fingerprints: dict[str, tuple[float, F]] = {}
        self._bodies: dict[tuple[Hashable, ...], B] = {}
        self._lock = threading.Lock()

    def fingerprint(self, property_key: str, load: Callable[[], F]) -> F:
        """The property's fingerprint, re-read with ``load`` once it is ``ttl`` old."""
        now = self._clock()
        cached = self._fingerprints.get(property_key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        fresh = load()
        with self._lock:
            self._fingerprints[property_key] = (now, fresh)
        return fresh

    def body(self, key: tuple[Hashable, ...], build: Callable[[], B]) -> B:
        """The banner for ``key`` (which includes the fingerprint), built once."""
        found = self._bodies.get(key)
        if found is not None:
            return found
        built = build()
        with self._lock:
            if len(self._bodies) >= self._max_entries:
                self._bodies.clear()  # stale fingerprints pile up only after many publications
            self._bodies[key] = built
        return built
