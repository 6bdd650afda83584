"""``make bench``, self-service (issue 6): what the preferences work added to the hot path and
what its pages cost.

1. ``GET /v1/visitors/<id>/choice``: every returning visitor's widget asks it on every page
   load, beside the banner. In-process latency as the store grows, and over HTTP against a
   bare Flask JSON endpoint (gunicorn 2 workers x 4 threads, as the other HTTP figures).
2. ``GET /preferences/`` for a signed-in customer (look-up, banner texts, verified history).
3. Erasure of one customer: withdrawal receipt signed, PII wiped, webhook and audit rows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid

import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.messaging.campaigns import preferences_token
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from consent_service.self_service.erasure import erase
from tests.bench import databases
from tests.bench import http_load
from tests.bench.seed import seed_customers
from tests.support import settings_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="PostgreSQL test URL; a '<name>_bench' db is used")
    parser.add_argument("--requests", type=int, default=4000, help="GETs per HTTP measurement")
    parser.add_argument("--sizes", default="10000,100000", help="store sizes (customers)")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn runs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = databases.engines(args.pg_url)
    bare = None
    if not args.no_http:
        paths = ["/v1/banner?property=demo-shop"] * 5000  # the bare app's one-field JSON GET
        with http_load.served("tests.bench.bare_wsgi:app", {}) as port:
            bare = http_load.get_load(port, paths, args.requests, {})
        print(f"bare Flask GET JSON, HTTP (gunicorn): {bare}")
    for name, url in engines:
        app = databases.prepared_app(url)
        seeded = 0
        print(f"\n[{name}]")
        for size in sizes:
            seed_customers(app, seeded, size)
            seeded = size
            visitors = _visitors(app, 3000)
            p50, p99 = _choice_latency(app, visitors)
            print(
                f"[{name}] {size:>9,} customers: GET /v1/visitors/<id>/choice in-process "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            )
            if size == sizes[0]:
                if bare is not None:
                    _choice_http(name, app, visitors, args.requests, bare)
                _page_and_erasure(name, app, visitors[:60])


def _visitors(app: Flask, count: int) -> list[uuid.UUID]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Subject.visitor_id).where(Subject.erased_at.is_(None))
        ).all()
        db.session.remove()
    return random.Random(count).sample(list(rows), min(count, len(rows)))


def _path(visitor: uuid.UUID) -> str:
    return f"/v1/visitors/{visitor}/choice?property=demo-shop"


def _choice_latency(app: Flask, visitors: list[uuid.UUID]) -> tuple[float, float]:
    client = app.test_client()
    for visitor in visitors[:200]:
        client.get(_path(visitor))
    timings = []
    for visitor in visitors:
        started = time.perf_counter()
        response = client.get(_path(visitor))
        timings.append((time.perf_counter() - started) * 1000)
        assert response.json["status"] == "recorded", response.json
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99)]


def _choice_http(
    name: str, app: Flask, visitors: list[uuid.UUID], requests: int, bare: http_load.Load
) -> None:
    env = {**settings_environment(app.extensions["consent_settings"]), "CONSENT_LOG_LEVEL": "ERROR"}
    with http_load.served("wsgi:app", env) as port:
        load = http_load.get_load(port, [_path(v) for v in visitors], requests, {})
    print(f"[{name}] GET /v1/visitors/<id>/choice, HTTP (gunicorn): {load}")
    print(f"[{name}]   ratio to bare: {load.rate / bare.rate:.2f} (no budget set)")


def _page_and_erasure(name: str, app: Flask, visitors: list[uuid.UUID]) -> None:
    secret = app.extensions["consent_settings"].secret_key
    with app.app_context():
        rows = db.session.execute(
            sa.select(Subject.identity_id, Subject.property_id).where(
                Subject.visitor_id.in_(visitors)
            )
        ).all()
        db.session.remove()
    page_ms, erase_ms = [], []
    for identity_id, property_id in rows:
        client = app.test_client()
        client.get(f"/preferences/?token={preferences_token(secret, identity_id)}")
        started = time.perf_counter()
        response = client.get("/preferences/")
        page_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        with app.app_context():
            session = db.session()
            access = Access(property_id, None, identity_id, Via.MAGIC_LINK, utcnow())
            started = time.perf_counter()
            erase(
                session,
                access,
                issuer=app.extensions["receipt_issuer"],
                vault=app.extensions["vault"],
                network=None,
                request_id=None,
                now=utcnow(),
            )
            session.commit()
            erase_ms.append((time.perf_counter() - started) * 1000)
            db.session.remove()
    print(
        f"[{name}] GET /preferences/ (signed-in customer, in-process): "
        f"median {statistics.median(page_ms[5:]):.1f} ms"
    )
    print(
        f"[{name}] erasure of one customer (withdrawal receipt, wipe, webhook, audit): "
        f"median {statistics.median(erase_ms[5:]):.1f} ms"
    )


if __name__ == "__main__":
    main()
