"""Fresh, migrated benchmark databases with the demo shop loaded."""

from __future__ import annotations

import tempfile
from pathlib import Path

import flask_migrate
from flask import Flask
from sqlalchemy.engine import make_url

from consent_service import create_app
from consent_service.demo import load_property_dir
from consent_service.extensions import db
from policies import DEMO_DIR
from tests.support import ensure_postgres_database
from tests.support import make_settings


def sqlite_url() -> str:
    return f"sqlite:///{Path(tempfile.mkdtemp(prefix='consent-bench-')) / 'bench.db'}"


def postgres_bench_url(test_url: str) -> str:
    url = make_url(test_url)
    return url.set(database=f"{url.database}_bench").render_as_string(hide_password=False)


def prepared_app(database_url: str) -> Flask:
    """An app on a database migrated from scratch, holding only the demo shop."""
    if database_url.startswith("postgresql"):
        ensure_postgres_database(database_url)
    app = create_app(make_settings(Path(tempfile.mkdtemp(prefix="consent-bench-")), database_url))
    with app.app_context():
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade(revision="head")
        load_property_dir(db.session, DEMO_DIR / "demo-shop")
        db.session.commit()
    return app
