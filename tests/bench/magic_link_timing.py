"""Issue 13 item 7: does ``POST /preferences/link`` answer a known address slower than an
unknown one (a timing oracle)? Alternates known and unknown addresses, in-process through the
test client (no network noise), and prints the median of each and of the pairwise difference,
and how many pairs the known address was the slower of.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.magic_link_timing [--pg-url URL] [--pairs 300]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from consent_service.extensions import db
from tests.integration.test_notifications_sink import add_customer
from tests.support import ensure_postgres_database
from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
UNLIMITED = "1000000/hour"


def measure(database_url: str, pairs: int, instance: Path) -> None:
    app = started_on_fresh_database(
        make_settings(
            instance,
            database_url,
            magic_link_rate_limit_ip=UNLIMITED,
            magic_link_rate_limit_address=UNLIMITED,
        )
    )
    try:
        known = f"known-{uuid.uuid4().hex[:8]}@example.com"
        with app.app_context():
            add_customer(app, db.session(), known)
            db.session.commit()
        client = app.test_client()
        page = client.get("/preferences/?property=demo-shop").get_data(as_text=True)
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]

        def post(email: str) -> float:
            form = {"csrf_token": token, "property": "demo-shop", "email": email}
            start = time.perf_counter()
            response = client.post("/preferences/link", data=form)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, response.status_code
            return elapsed

        for _ in range(20):  # warm up both paths
            post(known)
            post(f"u-{uuid.uuid4().hex[:8]}@example.com")
        known_times, unknown_times = [], []
        for n in range(pairs):
            unknown = f"u-{uuid.uuid4().hex[:8]}@example.com"
            if n % 2:
                known_times.append(post(known))
                unknown_times.append(post(unknown))
            else:
                unknown_times.append(post(unknown))
                known_times.append(post(known))
        differences = [k - u for k, u in zip(known_times, unknown_times, strict=True)]
        slower = sum(d > 0 for d in differences)
        print(
            f"{make_url_name(database_url)}: {pairs} pairs; known median "
            f"{statistics.median(known_times) * 1000:.3f} ms, unknown median "
            f"{statistics.median(unknown_times) * 1000:.3f} ms, median difference "
            f"{statistics.median(differences) * 1000:+.3f} ms; known slower in {slower}/{pairs}"
        )
    finally:
        shut_down(app)


def make_url_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", help="a PostgreSQL database URL (created if missing)")
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{folder}/bench.db", args.pairs, Path(folder))
        if args.pg_url:
            ensure_postgres_database(args.pg_url)
            measure(args.pg_url, args.pairs, Path(folder))


if __name__ == "__main__":
    main()
