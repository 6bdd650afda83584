"""Helpers shared by the test suite and the benchmarks (no fixtures here)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from consent_service.settings import Environment
from consent_service.settings import Settings
from consent_service.signing import generate_signing_key

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/consent_test"


def postgres_url() -> str | None:
    """TEST_DATABASE_URL when it names PostgreSQL, else None."""
    url = os.environ.get("TEST_DATABASE_URL")
    return url if url and url.startswith("postgresql") else None


def postgres_reachable(url: str = DEFAULT_PG_URL) -> bool:
    admin = make_url(url).set(database="postgres")
    engine = sa.create_engine(admin, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def ensure_postgres_database(url: str) -> None:
    """Create the test database if it does not exist (trust auth on the local server)."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        admin.dispose()


def make_settings(instance_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.DEVELOPMENT,
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "signing_keys": (generate_signing_key("test-key-1"),),
        "base_url": "http://consent.test",
        "instance_path": instance_path,
        "max_body_bytes": 16 * 1024,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
