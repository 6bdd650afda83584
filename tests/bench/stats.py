"""One load run's figures, and percentiles defined once so that the Python clients' p50/p99
mean what wrk's do."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence


class LoadFailed(RuntimeError):
    """Requests got an unexpected answer or none: the run measured nothing."""


class NothingCompleted(LoadFailed):
    """Not one request completed within the run (a cold server's first answers can take
    longer than a short warm-up)."""


@dataclasses.dataclass(frozen=True)
class LoadRun:
    """What a load generator measured in one run against one server."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``p`` % of all values at
    or below it. HdrHistogram, and so wrk's ``--latency``, reports this one (no interpolation
    between two measured latencies)."""
    if not values:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    ordered = sorted(values)
    # Rounded first: 0.57 * 100 is 56.99999999999999 in binary floating point.
    rank = math.ceil(round(p * len(ordered) / 100, 9))
    return ordered[max(rank, 1) - 1]


def from_latencies(latencies_ms: Sequence[float], seconds: float) -> LoadRun:
    """A run's figures from every request's latency and the run's length."""
    return LoadRun(
        requests=len(latencies_ms),
        seconds=seconds,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
    )
