"""``make bench``, look-ups: the integration API against its budgets (issue 4).

1. single look-ups over HTTP (gunicorn, 2 workers x 4 threads, as the baseline is served)
   against a bare Flask JSON endpoint, with p50/p99 latency at that load;
2. bulk: 10,000 decisions in one POST, server time (in-process, no network);
3. single look-up latency as the store grows from 10 thousand to 1 million customers.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from flask import Flask

from tests.bench import databases
from tests.bench import http_load
from tests.bench.seed import customer_ref
from tests.bench.seed import seed_customers
from tests.support import settings_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    parser.add_argument("--requests", type=int, default=4000, help="GETs per HTTP measurement")
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="store sizes for the latency curve"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn runs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    engines = databases.engines(args.pg_url)
    bare_http = None
    if not args.no_http:
        with http_load.served("tests.bench.bare_wsgi:app", {}) as port:
            bare_http = http_load.get_load(port, _bare_paths(), args.requests, {})
        print(f"bare Flask GET JSON, HTTP (gunicorn): {bare_http}")
    for name, url in engines:
        _bench_engine(name, url, args, sizes, bare_http)


def _bench_engine(
    name: str,
    url: str,
    args: argparse.Namespace,
    sizes: list[int],
    bare_http: http_load.Load | None,
) -> None:
    app = databases.prepared_app(url)
    headers = _api_key(app)
    seeded = 0
    print(f"\n[{name}]")
    for size in sizes:
        started = time.perf_counter()
        seed_customers(app, seeded, size)
        seeded = size
        seed_seconds = time.perf_counter() - started
        p50, p99 = _inprocess_latency(app, headers, size)
        print(
            f"[{name}] {size:>9,} customers: single look-up in-process p50 {p50:6.2f} ms, "
            f"p99 {p99:6.2f} ms   (seeded in {seed_seconds:.0f} s)"
        )
        if size == sizes[0]:
            _bench_bulk(name, app, headers, size)
            if bare_http is not None:
                _bench_http(name, app, headers, size, args.requests, bare_http)


def _bench_http(
    name: str,
    app: Flask,
    headers: dict[str, str],
    size: int,
    requests: int,
    bare_http: http_load.Load,
) -> None:
    settings = app.extensions["consent_settings"]
    env = {
        **settings_environment(settings),
        "CONSENT_LOG_LEVEL": "ERROR",
    }
    with http_load.served("wsgi:app", env) as port:
        load = http_load.get_load(port, _lookup_paths(size), requests, headers)
    print(f"[{name}] GET /v1/decisions, HTTP (gunicorn): {load}")
    print(
        f"[{name}]   ratio to bare: {load.rate / bare_http.rate:.2f} (target >= 0.70); "
        "every answer logged"
    )


def _bench_bulk(name: str, app: Flask, headers: dict[str, str], size: int) -> None:
    body = json.dumps(
        {
            "subjects": [f"customer:{customer_ref(i)}" for i in random.sample(range(size), 10_000)],
            "purposes": ["marketing"],
        }
    )
    client = app.test_client()
    timings = []
    for _ in range(6):
        started = time.perf_counter()
        response = client.post(
            "/v1/decisions", data=body, content_type="application/json", headers=headers
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
        assert len(response.json["decisions"]) == 10_000
    allowed = sum(d["allowed"] for d in response.json["decisions"])
    median = statistics.median(timings[1:])
    print(
        f"[{name}] POST /v1/decisions, 10,000 subjects: median {median:.0f} ms server time, "
        f"best {min(timings[1:]):.0f} ms (target < 150 ms, issue 14; {allowed} allowed)"
    )


def _inprocess_latency(app: Flask, headers: dict[str, str], size: int) -> tuple[float, float]:
    client = app.test_client()
    paths = _lookup_paths(size)
    for path in paths[:200]:
        client.get(path, headers=headers)
    timings = []
    for path in paths[:2000]:
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99)]


def _lookup_paths(size: int) -> list[str]:
    rng = random.Random(size)
    return [
        f"/v1/decisions?subject=customer:{customer_ref(rng.randrange(size))}&purpose=marketing"
        for _ in range(5000)
    ]


def _bare_paths() -> list[str]:
    return [f"/v1/decisions?subject=customer:bench-{i}&purpose=marketing" for i in range(5000)]


def _api_key(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {databases.api_key(app)}"}


if __name__ == "__main__":
    main()
