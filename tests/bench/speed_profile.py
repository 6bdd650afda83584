"""Where the hot paths spend their CPU, in-process (no sockets): ``python -m
tests.bench.speed_profile [--pg-url URL] [--profile single|bulk|consent|banner]``.

For each database: CPU milliseconds per request (``time.process_time``: this process's
threads, the look-up log's writer included; a loaded machine inflates it far less than wall
time) and requests per CPU second, for a
single look-up, a 10,000-item bulk look-up, a consent write and a banner fetch, next to the
bare Flask endpoints of ``tests.bench.inprocess``; with ``--profile``, the top of a cProfile
of that path. Indicative only: final figures come from ``make bench`` on a quiet machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from tests.bench import databases
from tests.bench.inprocess import bare_app
from tests.bench.inprocess import consent_bodies
from tests.bench.seed import customer_ref
from tests.bench.seed import seed_customers

CUSTOMERS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--profile", choices=["single", "bulk", "consent", "banner"])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    bare = _paths(bare_app(), {}, args.requests)
    print("bare Flask:", _report({k: v for k, v in bare.items() if k != "bulk"}))
    for name, url in databases.engines(args.pg_url):
        if args.only and name != args.only:
            continue
        app = databases.prepared_app(url)
        seed_customers(app, 0, CUSTOMERS)
        paths = _paths(app, {"Authorization": f"Bearer {databases.api_key(app)}"}, args.requests)
        print(f"[{name}]", _report(paths))
        if args.profile:
            _profile(paths[args.profile], args.requests)


Run = Callable[[], None]


def _paths(app: Flask, headers: dict[str, str], count: int) -> dict[str, Run]:
    """One callable per path, each doing one request through the WSGI callable."""
    rng = random.Random(1)
    singles = [
        _environ(
            f"/v1/decisions?subject=customer:{customer_ref(rng.randrange(CUSTOMERS))}"
            "&purpose=marketing",
            headers=headers,
        )
        for _ in range(count)
    ]
    bulk_body = json.dumps(
        {
            "subjects": [f"customer:{customer_ref(i)}" for i in range(CUSTOMERS)],
            "purposes": ["marketing"],
        }
    ).encode()
    bodies = consent_bodies(count * 3)
    banner = _environ("/v1/banner?property=demo-shop", headers={"Accept-Encoding": "gzip"})
    counters = {"single": 0, "consent": 0}

    def single() -> None:
        counters["single"] += 1
        _call(app, singles[counters["single"] % len(singles)], "200")

    def bulk() -> None:
        _call(app, _environ("/v1/decisions", "POST", bulk_body, headers), "200")

    def consent() -> None:
        counters["consent"] += 1
        body = bodies[counters["consent"] % len(bodies)]
        _call(app, _environ("/v1/consents", "POST", body), "201")

    def banner_fetch() -> None:
        _call(app, banner, "200")

    return {"single": single, "bulk": bulk, "consent": consent, "banner": banner_fetch}


def _environ(
    path: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return EnvironBuilder(
        path=path,
        method=method,
        data=body,
        content_type="application/json" if body is not None else None,
        headers=headers,
    ).get_environ()


def _call(app: Flask, environ: dict[str, Any], expect: str) -> None:
    statuses: list[str] = []

    def start_response(status: str, headers: list[Any], exc_info: object = None) -> None:
        statuses.append(status)

    environ = dict(environ)
    if "wsgi.input" in environ:
        environ["wsgi.input"].seek(0)
    chunks = b"".join(app(environ, start_response))
    if not statuses[0].startswith(expect):
        raise RuntimeError(f"{environ['PATH_INFO']}: {statuses[0]} {chunks[:300]!r}")


def _measure(run: Run, count: int) -> tuple[float, float]:
    """CPU ms per call and wall ms per call, each the least of seven rounds (on a shared,
    loaded machine the least is the steadiest), after a warm-up."""
    for _ in range(max(count // 10, 3)):
        run()
    cpu, wall = [], []
    for _ in range(7):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        for _ in range(count):
            run()
        cpu.append((time.process_time() - started_cpu) * 1000 / count)
        wall.append((time.perf_counter() - started_wall) * 1000 / count)
    return min(cpu), min(wall)


def _report(paths: dict[str, Run]) -> str:
    parts = []
    for name, run in paths.items():
        count = 6 if name == "bulk" else 400
        cpu, wall = _measure(run, count)
        parts.append(f"{name} {cpu:.3f} ms CPU ({wall:.3f} ms wall)")
    return "; ".join(parts)


def _profile(run: Run, count: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        run()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(60)
    print(out.getvalue())


if __name__ == "__main__":
    main()
