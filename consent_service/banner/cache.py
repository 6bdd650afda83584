"""Per-process cache of rendered banner configurations.

A banner is a pure function of (property config, jurisdiction, locale), and the property's
config is named by a small fingerprint — its ``config_version`` plus the number of the policy
version in effect. Each process re-reads the fingerprint at most every ``ttl`` seconds (one
light query), so a publication reaches every process within ``ttl`` and no process ever
serves a banner built from an older fingerprint after that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

from consent_service.infra.ttl_cache import FOREVER
from consent_service.infra.ttl_cache import TtlCache

F = TypeVar("F", bound=Hashable)
B = TypeVar("B")


class BannerCache(Generic[F, B]):
    """Fingerprints for ``ttl`` seconds; bodies for as long as there is room, since a body's
    key includes the fingerprint it was built from (a publication changes the key)."""

    def __init__(
        self, *, ttl: float, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fingerprints: TtlCache[str, F] = TtlCache(ttl, max_entries=max_entries, clock=clock)
        self._bodies: TtlCache[tuple[Hashable, ...], B] = TtlCache(
            FOREVER, max_entries=max_entries, clock=clock
        )

    def fingerprint(self, property_key: str, load: Callable[[], F]) -> F:
        """The property's fingerprint, re-read with ``load`` once it is ``ttl`` old."""
        return self._fingerprints.get(property_key, load)

    def body(self, key: tuple[Hashable, ...], build: Callable[[], B]) -> B:
        """The banner for ``key`` (which includes the fingerprint), built once."""
        return self._bodies.get(key, build)

    def fresh_fingerprint(self, property_key: str) -> F | None:
        """The fingerprint ``fingerprint`` would return without a query; None if it would
        query (so whoever answers without a database can leave the request to who can)."""
        return self._fingerprints.peek(property_key)

    def built_body(self, key: tuple[Hashable, ...]) -> B | None:
        """The banner ``body`` would return without building it; None if not built yet."""
        return self._bodies.peek(key)

    def clear(self) -> None:
        self._fingerprints.clear()
        self._bodies.clear()
