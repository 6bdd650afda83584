"""Fresh, migrated benchmark databases with the demo shop loaded."""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from tests.support import ensure_postgres_database
from tests.support import make_settings
from tests.support import postgres_reachable
from tests.support import started_on_fresh_database


def sqlite_url() -> str:
    return f"sqlite:///{Path(tempfile.mkdtemp(prefix='consent-bench-')) / 'bench.db'}"


def postgres_bench_url(test_url: str) -> str:
    url = make_url(test_url)
    return url.set(database=f"{url.database}_bench").render_as_string(hide_password=False)


def engines(pg_url: str | None) -> list[tuple[str, str]]:
    """The databases a benchmark runs on: a fresh SQLite file, and PostgreSQL's bench
    database when ``pg_url`` is given and reachable (said so when it is not)."""
    found = [("sqlite", sqlite_url())]
    if pg_url and postgres_reachable(pg_url):
        found.append(("postgresql", postgres_bench_url(pg_url)))
    else:
        print("(PostgreSQL not reachable: SQLite only)")
    return found


def prepared_app(database_url: str) -> Flask:
    """An app on a database migrated from scratch, holding only the demo shop."""
    if database_url.startswith("postgresql"):
        ensure_postgres_database(database_url)
    instance = Path(tempfile.mkdtemp(prefix="consent-bench-"))
    # The production defaults: a publication reaches every process within 2 s, look-ups are
    # logged by a background thread.
    settings = make_settings(
        instance,
        database_url,
        banner_cache_seconds=2,
        api_key_cache_seconds=2,
        access_log_flush_ms=200,
    )
    app = started_on_fresh_database(settings)
    # As gunicorn.conf.py's post_worker_init does: the app's long-lived objects leave the
    # collector's generations, so in-process figures are those a served worker gives.
    gc.collect()
    gc.freeze()
    return app


def api_key(app: Flask) -> str:
    """A fresh read-scoped API key of the demo shop whose rate limit no benchmark reaches."""
    with app.app_context():
        issued = create_api_key(
            db.session(),
            "demo-shop",
            name="bench",
            scopes=["consent:read"],
            rate_limit="9999999/minute",
        )
        db.session.commit()
        db.session.remove()
    return issued.plaintext
