"""Two servers under the same load in alternating rounds: the service against its baseline,
or one gunicorn configuration against another.

Each round loads every server once, in turn, for the same time with the same client load;
the order flips every round, so a drift in the machine's other load (this machine is shared)
favours neither. A figure is the median over the rounds; a ratio is the median of the
per-round ratios, which cancels most of what the machine's other load did in that round.
CPU per request is the servers' own CPU (gunicorn master and workers, from /proc) over all
the rounds, divided by the requests they served: it depends far less on that other load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
from collections.abc import Callable
from collections.abc import Sequence

from tests.bench import procstat
from tests.bench.http_load import Served
from tests.bench.stats import LoadFailed
from tests.bench.stats import LoadRun
from tests.bench.stats import NothingCompleted
from tests.bench.workloads import Workload

# A load generator: (port, workload, seconds, connections) -> the run's figures.
Generator = Callable[[int, Workload, float, int], LoadRun]
WARM_UP_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Measured:
    """One server's runs of one workload, and the CPU its processes used for them."""

    runs: tuple[LoadRun, ...]
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return statistics.median(r.rate for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / sum(r.requests for r in self.runs)


def ratios(ours: Measured, theirs: Measured) -> list[float]:
    """``ours`` rate over ``theirs`` in each round."""
    return [a.rate / b.rate for a, b in zip(ours.runs, theirs.runs, strict=True)]


def ratio(ours: Measured, theirs: Measured) -> float:
    """The median of the per-round ratios."""
    return statistics.median(ratios(ours, theirs))


def alternate(
    servers: Sequence[Served],
    workload: Workload,
    generator: Generator,
    *,
    rounds: int,
    seconds: float,
    connections: int,
) -> list[Measured]:
    """Load each server ``rounds`` times in alternating order; their figures, in order."""
    for server in servers:  # warm every worker (connections, caches, first compilations)
        with contextlib.suppress(NothingCompleted):
            generator(server.port, workload, WARM_UP_SECONDS, connections)
    runs: list[list[LoadRun]] = [[] for _ in servers]
    cpu = [0.0 for _ in servers]
    for round_number in range(rounds):
        order = list(enumerate(servers))
        if round_number % 2:
            order.reverse()
        for index, server in order:
            before = server.cpu_ticks()
            try:
                runs[index].append(generator(server.port, workload, seconds, connections))
            except LoadFailed as error:
                raise type(error)(f"{server.label}: {error}") from None
            cpu[index] += procstat.cpu_seconds(before, server.cpu_ticks())
    return [Measured(tuple(r), c) for r, c in zip(runs, cpu, strict=True)]
