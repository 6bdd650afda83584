"""Per-API-key rate limits on the ``limits`` library (the engine under Flask-Limiter):
memory storage in the embedded mode, Redis when several processes must share counts.

Flask-Limiter itself is not used on the request path: its before-request check (run for every
request, the widget's public ones included), its decorator check and its header hook cost
~0.7 ms of a 4.6 ms (profiled) look-up, for a limit this module applies with one call.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import ClassVar

from limits import RateLimitItem
from limits import parse
from limits.storage import MemoryStorage
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from consent_service.errors import RateLimited

log = logging.getLogger(__name__)
_EMBEDDED_SCHEME = "embedded-memory"


class EmbeddedMemoryStorage(MemoryStorage):
    """``limits``' memory storage without its expiry thread.

    The stock storage starts a timer thread whenever the last one has finished, which on a
    steady trickle of requests means a new thread (and a wait for it to start) every few
    requests: measured at ~2.8 ms of each call. A fixed window needs no timer: a counter is
    dropped when it is next read after its window ended, and there is one per API key.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = [_EMBEDDED_SCHEME]  # type: ignore[misc]

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.get(key)  # drops the counter of a window that has ended
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        return self.storage.get(key, 0)


class KeyRateLimiter:
    """Fixed-window limits per key; a storage outage lets requests through (logged): the
    rate limit protects the service, it must not take the consent API down with it."""

    def __init__(self, storage_uri: str) -> None:
        if storage_uri.startswith("memory://"):
            storage_uri = f"{_EMBEDDED_SCHEME}://"
        self._strategy = FixedWindowRateLimiter(storage_from_string(storage_uri))

    def check(self, key: str, limit: str) -> None:
        item = parsed_limit(limit)
        try:
            if self._strategy.hit(item, key):
                return
            reset_at, _remaining = self._strategy.get_window_stats(item, key)
        except Exception as exc:  # the storage (Redis) is unreachable or failing
            log.warning("rate-limit storage failed (%s); not limiting", type(exc).__name__)
            return
        raise RateLimited(
            f"rate limit of {item} exceeded; retry after Retry-After seconds",
            retry_after=max(1, int(reset_at - time.time()) + 1),
        )


@functools.lru_cache(maxsize=256)
def parsed_limit(limit: str) -> RateLimitItem:
    """``"600/minute"`` as a limit item; raises ValueError when it cannot be read."""
    return parse(limit)
