"""``make bench``: receipt writes/s and decide()/s on SQLite and PostgreSQL, against a bare
Flask JSON endpoint served the same way, in-process (WSGI) and over HTTP (gunicorn)."""

from __future__ import annotations

import argparse
import platform

from tests.bench import databases
from tests.bench import decide
from tests.bench import http_load
from tests.bench import inprocess
from tests.support import settings_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    parser.add_argument("--requests", type=int, default=3000, help="POSTs per measurement")
    parser.add_argument("--lookups", type=int, default=5000, help="decide() calls")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn runs")
    args = parser.parse_args()

    print(
        f"# consent-service benchmarks on {platform.node()} ({platform.processor() or '?'}), "
        f"Python {platform.python_version()}"
    )
    bare = inprocess.bare_app()
    inprocess.post_rate(bare, inprocess.consent_bodies(500))  # warm-up
    bare_inproc = inprocess.post_rate(bare, inprocess.consent_bodies(args.requests))
    print(f"bare Flask JSON endpoint, in-process:          {bare_inproc:9.0f} req/s")
    bare_http = None
    if not args.no_http:
        with http_load.served("tests.bench.bare_wsgi:app", {}) as port:
            bare_http = http_load.post_rate(port, args.requests)
        print(f"bare Flask JSON endpoint, HTTP (gunicorn):     {bare_http:9.0f} req/s")

    _bench_banner(args, bare)

    engines = databases.engines(args.pg_url)
    for name, url in engines:
        _bench_engine(name, url, args, bare_inproc, bare_http)


def _bench_engine(
    name: str, url: str, args: argparse.Namespace, bare_inproc: float, bare_http: float | None
) -> None:
    app = databases.prepared_app(url)
    inprocess.post_rate(app, inprocess.consent_bodies(200))  # warm-up
    writes = inprocess.post_rate(app, inprocess.consent_bodies(args.requests))
    print(
        f"\n[{name}] POST /v1/consents, in-process:      {writes:9.0f} receipts/s "
        f"(ratio to bare: {writes / bare_inproc:.2f})"
    )
    if bare_http is not None:
        settings = app.extensions["consent_settings"]
        env = {
            **settings_environment(settings),
            "CONSENT_LOG_LEVEL": "ERROR",
        }
        with http_load.served("wsgi:app", env) as port:
            http_writes = http_load.post_rate(port, args.requests)
        print(
            f"[{name}] POST /v1/consents, HTTP (gunicorn): {http_writes:9.0f} receipts/s "
            f"(ratio to bare: {http_writes / bare_http:.2f}; target >= 0.50)"
        )
    rate, reasons = decide.decide_rate(app, args.lookups)
    print(f"[{name}] look_up(), one at a time:         {rate:9.0f} look-ups/s  {reasons}")


BANNER = "/v1/banner?property=demo-shop&locale=de"


def _bench_banner(args: argparse.Namespace, bare: object) -> None:
    """Banner configuration against the bare endpoint; the database barely matters here (the
    banner is cached per process), so SQLite only."""
    app = databases.prepared_app(databases.sqlite_url())
    inprocess.get_rate(app, BANNER, 500)  # warm-up
    # Alternate the two and keep each one's best of five: this machine's noise is larger
    # than the difference being measured.
    bare_rate = rate = 0.0
    for _ in range(5):
        bare_rate = max(bare_rate, inprocess.get_rate(bare, BANNER, args.requests))
        rate = max(rate, inprocess.get_rate(app, BANNER, args.requests))
    print(f"\nbare Flask GET JSON, in-process:               {bare_rate:9.0f} req/s")
    print(
        f"GET /v1/banner, in-process:                    {rate:9.0f} req/s "
        f"(ratio to bare: {rate / bare_rate:.2f}; target >= 0.85)"
    )
    if args.no_http:
        return
    with http_load.served("tests.bench.bare_wsgi:app", {}) as port:
        bare_http = http_load.get_rate(port, BANNER, args.requests * 2)
    settings = app.extensions["consent_settings"]
    env = {
        **settings_environment(settings),
        "CONSENT_LOG_LEVEL": "ERROR",
    }
    with http_load.served("wsgi:app", env) as port:
        http_rate = http_load.get_rate(port, BANNER, args.requests * 2)
    print(f"bare Flask GET JSON, HTTP (gunicorn):          {bare_http:9.0f} req/s")
    print(
        f"GET /v1/banner, HTTP (gunicorn):               {http_rate:9.0f} req/s "
        f"(ratio to bare: {http_rate / bare_http:.2f}; target >= 0.85)"
    )


if __name__ == "__main__":
    main()
