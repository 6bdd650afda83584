"""Which gunicorn processes x threads serve best on this machine: ``python -m tests.bench.sizing``.

Serves the service under every configuration asked for at once (an idle one costs nothing),
all on one database (SQLite by default, as ``make run`` serves; ``--database postgresql``
for production's), and loads each in turn with the same look-ups (reads) and first-time
consents (writes), in alternating rounds as ``make bench`` does (:mod:`tests.bench.compare`).
Prints each configuration's req/s, p99 and CPU per request, its rates relative to the first
configuration's (medians of per-round ratios), and the best by the geometric mean of those
two: a choice must serve both. Any failed request (a "database is locked", a timeout)
fails the run instead of ranking a broken configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import re

from tests.bench import compare
from tests.bench import databases
from tests.bench import http_load
from tests.bench import workloads
from tests.bench.run import load_generator
from tests.bench.seed import seed_customers
from tests.support import settings_environment
from tests.support import shut_down

DEFAULT_CONFIGS = "2x4,1x8,1x1,2x1,2x1sync,2x2,3x1,4x1"


@dataclasses.dataclass(frozen=True)
class Config:
    """gunicorn's ``--workers``, ``--threads`` and ``--worker-class``."""

    workers: int
    threads: int
    worker_class: str

    def __str__(self) -> str:
        return f"{self.workers} x {self.threads} {self.worker_class}"


def parse_config(text: str) -> Config:
    """``2x4`` (gthread, gunicorn's threaded worker) or ``2x1sync`` (one request at a
    time per process, no keep-alive)."""
    match = re.fullmatch(r"(\d+)x(\d+)(sync)?", text.strip())
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not WORKERSxTHREADS[sync], e.g. 2x4")
    workers, threads, sync = int(match.group(1)), int(match.group(2)), match.group(3)
    if sync and threads != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a sync worker has one thread")
    return Config(workers, threads, "sync" if sync else "gthread")


def score(reads: float, writes: float) -> float:
    """What ranks the configurations: the geometric mean of their read and write rates
    (relative to one configuration's), so that neither can make up for the other
    collapsing."""
    return math.sqrt(reads * writes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--configs",
        type=lambda text: [parse_config(c) for c in text.split(",")],
        default=[parse_config(c) for c in DEFAULT_CONFIGS.split(",")],
        help=f"WORKERSxTHREADS[sync],... (default {DEFAULT_CONFIGS})",
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--seconds", type=int, default=2, help="length of one run (whole s)")
    parser.add_argument("--customers", type=int, default=10_000, help="seeded for look-ups")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    if args.database == "postgresql" and not args.pg_url:
        parser.error("--database postgresql needs --pg-url")
    generator = load_generator(args.load, args.connections)
    url = (
        databases.postgres_bench_url(args.pg_url)
        if args.database == "postgresql"
        else databases.sqlite_url()
    )
    app = databases.prepared_app(url)
    seed_customers(app, 0, args.customers)
    key = databases.api_key(app)
    env = {**settings_environment(app.extensions["consent_settings"]), "CONSENT_LOG_LEVEL": "ERROR"}
    shut_down(app)
    print(
        f"# sizing gunicorn for the service on {args.database}, {os.cpu_count()} cores, load "
        f"average {' '.join(f'{n:.1f}' for n in os.getloadavg())} at the start"
    )
    print(f"# load generator: {generator.description}")
    print(
        f"# {args.rounds} alternating rounds of {args.seconds:g} s per configuration; "
        "medians over the rounds; CPU: gunicorn master and workers (/proc), per request"
    )
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                http_load.gunicorn(
                    "wsgi:app",
                    env,
                    workers=c.workers,
                    threads=c.threads,
                    worker_class=c.worker_class,
                )
            )
            for c in args.configs
        ]
        measured = {
            workload.label: compare.alternate(
                servers,
                workload,
                generator.run,
                rounds=args.rounds,
                seconds=args.seconds,
                connections=args.connections,
            )
            for workload in (workloads.decisions(key, args.customers), workloads.consents())
        }
    _report(args.configs, *measured.values())


def _report(
    configs: list[Config], reads: list[compare.Measured], writes: list[compare.Measured]
) -> None:
    """Each configuration's figures, and its rates relative to the first configuration's in
    the same rounds (medians of per-round ratios: the machine's drift cancels)."""
    print(
        f"\n{'workers x threads':18} {'reads/s':>8} {'p99 ms':>7} {'CPU ms':>7} "
        f"{'writes/s':>9} {'p99 ms':>7} {'CPU ms':>7}   {'reads':>6} {'writes':>6} {'score':>6}"
    )
    relative = [
        (compare.ratio(r, reads[0]), compare.ratio(w, writes[0]))
        for r, w in zip(reads, writes, strict=True)
    ]
    scores = [score(*ratios) for ratios in relative]
    for config, read, write, (read_ratio, write_ratio), points in zip(
        configs, reads, writes, relative, scores, strict=True
    ):
        print(
            f"{config!s:18} {read.rate:8.0f} {read.p99_ms:7.1f} {read.cpu_ms_per_request:7.2f} "
            f"{write.rate:9.0f} {write.p99_ms:7.1f} {write.cpu_ms_per_request:7.2f}   "
            f"{read_ratio:6.2f} {write_ratio:6.2f} {points:6.2f}"
        )
    best = max(range(len(configs)), key=scores.__getitem__)
    print(
        f"\nreads: GET /v1/decisions, writes: POST /v1/consents; reads, writes and score "
        f"relative to {configs[0]}; score: the geometric mean of the two.\n"
        f"best here: {configs[best]}"
    )


if __name__ == "__main__":
    main()
