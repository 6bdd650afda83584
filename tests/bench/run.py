"""``make bench``, over HTTP: the service's three hot paths against a bare Flask JSON endpoint
served the same way, on SQLite and PostgreSQL.

For ``GET /v1/decisions`` (one look-up with an API key), ``POST /v1/consents`` (a first-time
visitor's choice) and ``GET /v1/banner`` (with a browser's Accept-Encoding): requests per
second, p50 and p99 latency, the servers' CPU per request, and the ratio to the bare endpoint
(:mod:`tests.bench.compare` says how the rounds alternate). Both are served by gunicorn with
the same workers x threads (``make run``'s by default) and loaded by wrk when it is installed,
else by the Python clients of :mod:`tests.bench.http_load`.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import os
import platform

from tests.bench import ceiling_wsgi
from tests.bench import compare
from tests.bench import databases
from tests.bench import http_load
from tests.bench import workloads
from tests.bench import wrk
from tests.bench.seed import seed_customers
from tests.support import settings_environment
from tests.support import shut_down

# Issue 14's targets: the service's rate over the bare endpoint's.
TARGETS = {"GET /v1/decisions": 0.5, "POST /v1/consents": 0.25, "GET /v1/banner": 0.9}
BARE = "tests.bench.bare_wsgi:app"
# The bare endpoint plus the least database work of each path (tests/bench/ceiling_wsgi.py).
CEILING = "tests.bench.ceiling_wsgi:app"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    # make run's (the Makefile's WORKERS and THREADS).
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per path")
    parser.add_argument("--seconds", type=int, default=3, help="length of one run (whole s)")
    parser.add_argument("--customers", type=int, default=10_000, help="seeded for look-ups")
    parser.add_argument(
        "--load",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed (auto), or the Python clients",
    )
    args = parser.parse_args()
    generator = load_generator(args.load, args.connections)
    _header(args, generator.description)
    with http_load.gunicorn(BARE, {}, workers=args.workers, threads=args.threads) as bare:
        for name, url in databases.engines(args.pg_url):
            _bench_database(name, url, args, generator.run, bare)
    print(f"\n(load average at the end: {_load_average()})")


@dataclasses.dataclass(frozen=True)
class LoadGenerator:
    """The chosen load generator and the line that says which it is."""

    description: str
    run: compare.Generator


def load_generator(preference: str, connections: int) -> LoadGenerator:
    """wrk when installed (or required), else the Python clients."""
    if preference != "python" and wrk.installed():
        return LoadGenerator(
            f"{wrk.version()} ({min(wrk.THREADS, connections)} threads, {connections} "
            "connections, latency from its --latency report)",
            wrk.run,
        )
    if preference == "wrk":
        raise SystemExit("wrk is not installed: apt-get install wrk")
    processes = min(http_load.CLIENT_PROCESSES, connections)
    hint = (
        ""
        if preference == "python"
        else "; wrk is not installed: apt-get install wrk leaves the servers more of the CPU"
    )
    return LoadGenerator(
        f"Python clients ({connections} connections in {processes} processes, a thread per "
        f"connection){hint}",
        http_load.python_run,
    )


def _header(args: argparse.Namespace, generator: str) -> None:
    print(
        f"# make bench over HTTP on {platform.node()}: {os.cpu_count()} cores, load average "
        f"{_load_average()} at the start (other load makes the figures noisy), "
        f"Python {platform.python_version()}"
    )
    print(f"# load generator: {generator}")
    print(
        f"# servers: gunicorn, {args.workers} worker(s) x {args.threads} thread(s) (gthread) each, "
        f"for the service, for the bare Flask JSON endpoint ({BARE}) and for the ceiling: "
        f"that endpoint doing only each path's database work ({CEILING})"
    )
    print(
        f"# {args.rounds} alternating rounds of {args.seconds:g} s per path and server; req/s, "
        "p50 and p99 are medians over the rounds; ours/bare is the median of the per-round "
        "ratios; CPU is the gunicorn master's and workers' (/proc) over all rounds, per request"
    )


def _load_average() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


def _bench_database(
    name: str,
    url: str,
    args: argparse.Namespace,
    generator: compare.Generator,
    bare: http_load.Served,
) -> None:
    app = databases.prepared_app(url)
    seed_customers(app, 0, args.customers)
    key = databases.api_key(app)
    env = {**settings_environment(app.extensions["consent_settings"]), "CONSENT_LOG_LEVEL": "ERROR"}
    shut_down(app)
    print(f"\n== {name} ({args.customers:,} customers with consent seeded)")
    print(f"{'path':20} {'server':7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}")
    ceiling_wsgi.prepare(url)
    ceiling_env = {"CEILING_DATABASE_URL": url}
    with (
        http_load.gunicorn("wsgi:app", env, workers=args.workers, threads=args.threads) as ours,
        http_load.gunicorn(
            CEILING, ceiling_env, workers=args.workers, threads=args.threads
        ) as ceiling,
    ):
        for workload in (
            workloads.decisions(key, args.customers),
            workloads.consents(),
            workloads.banner(),
        ):
            # The banner needs no database: its ceiling is the bare endpoint.
            servers = [ours, bare] if workload.kind == "fixed" else [ours, bare, ceiling]
            measured = compare.alternate(
                servers,
                workload,
                generator,
                rounds=args.rounds,
                seconds=args.seconds,
                connections=args.connections,
            )
            _print_rows(workload.label, *measured)
        print(f"{'':20} {_banner_bytes(ours.port)}")


def _print_rows(
    label: str,
    mine: compare.Measured,
    theirs: compare.Measured,
    ceiling: compare.Measured | None = None,
) -> None:
    rows = [(label, "ours", mine), ("", "bare", theirs)]
    if ceiling is not None:
        rows.append(("", "ceiling", ceiling))
    for path, server, measured in rows:
        print(
            f"{path:20} {server:7} {measured.rate:7.0f} {measured.p50_ms:8.2f} "
            f"{measured.p99_ms:8.2f} {measured.cpu_ms_per_request:11.2f}"
        )
    each = compare.ratios(mine, theirs)
    target = TARGETS[label]
    print(
        f"{'':20} ours/bare {compare.ratio(mine, theirs):.2f} (rounds {min(each):.2f}-"
        f"{max(each):.2f}; target >= {target:.2f}: "
        f"{'met' if compare.ratio(mine, theirs) >= target else 'not met'})"
    )
    if ceiling is not None:
        each = compare.ratios(ceiling, theirs)
        print(
            f"{'':20} ceiling/bare {compare.ratio(ceiling, theirs):.2f} (rounds {min(each):.2f}-"
            f"{max(each):.2f}): the bare endpoint doing only this path's database work"
        )


def _banner_bytes(port: int) -> str:
    """What a browser downloads for the banner, and what it would without compression."""
    sizes = {}
    for accept in (dict(workloads.banner().headers)["Accept-Encoding"], "identity"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", workloads.BANNER_PATH, headers={"Accept-Encoding": accept})
        response = connection.getresponse()
        sizes[accept] = (len(response.read()), response.getheader("Content-Encoding"))
        connection.close()
    (sent, encoding), (plain, _) = sizes.values()
    if encoding is None:
        return f"the banner's answer to a browser: {sent:,} B, not compressed"
    return f"the banner's answer to a browser: {sent:,} B {encoding} ({plain:,} B without)"


if __name__ == "__main__":
    main()
