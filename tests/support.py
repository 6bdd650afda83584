"""Helpers shared by the test suite and the benchmarks (no fixtures here)."""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2 import profiles
from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from consent_service import create_app
from consent_service.demo import load_property_dir
from consent_service.extensions import close_deferred_writes
from consent_service.extensions import db
from consent_service.infra.pii import DataKey
from consent_service.infra.signing import generate_signing_key
from consent_service.settings import Environment
from consent_service.settings import Settings
from policies import DEMO_DIR

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/consent_test"
# Admin passwords in tests: argon2id with its cheapest parameters (a hash with the production
# ones costs 0.1-1 s). One test keeps the production parameters and checks the upgrade path.
TEST_PASSWORD_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


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


def own_database_url(instance_path: Path, name: str) -> str:
    """A database of its own for tests whose requests really commit (other processes or
    threads must see the data, so the per-test rolled-back transaction cannot hold it):
    ``<TEST_DATABASE_URL's database>_<name>`` on PostgreSQL (created if missing), else a
    SQLite file ``<name>.db`` in ``instance_path``."""
    url = postgres_url()
    if not url:
        return f"sqlite:///{instance_path / f'{name}.db'}"
    target = make_url(url)
    own = target.set(database=f"{target.database}_{name}").render_as_string(hide_password=False)
    ensure_postgres_database(own)
    return own


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


def settings_environment(settings: Settings) -> dict[str, str]:
    """The ``CONSENT_*`` variables that configure another process (a worker, gunicorn) like
    ``settings``: the same database, instance folder and secrets."""
    return {
        "CONSENT_DATABASE_URL": settings.database_url,
        "CONSENT_INSTANCE_PATH": str(settings.instance_path),
        "CONSENT_SECRET_KEY": settings.secret_key,
        "CONSENT_SIGNING_KEYS": ",".join(key.spec() for key in settings.signing_keys),
        "CONSENT_DATA_KEYS": ",".join(key.spec() for key in settings.data_keys),
        "CONSENT_BLIND_INDEX_KEY": base64.urlsafe_b64encode(settings.blind_index_key).decode(),
        "CONSENT_KEY_STORE_URL": settings.key_store,
    }


def started_on_fresh_database(settings: Settings) -> Flask:
    """Migrate ``settings``' database from nothing, load the demo shop, then start the app.

    The app starts on the migrated database, as in production: started earlier, it would
    register its signing key in tables the migration then drops. A SQLite file becomes a copy
    of one database made that way once per process (copying costs a fraction of migrating);
    PostgreSQL databases are migrated each time.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        _copy_sqlite(_sqlite_template(), Path(str(url.database)))
    else:
        _migrate_from_nothing(settings)
    return create_app(settings, password_hasher=TEST_PASSWORD_HASHER)


def _migrate_from_nothing(settings: Settings) -> None:
    setup = create_app(settings)
    with setup.app_context():
        flask_migrate.downgrade(revision="base")  # a clean slate, even after an aborted run
        flask_migrate.upgrade(revision="head")  # the schema under test is the migrated one
        load_property_dir(db.session(), DEMO_DIR / "demo-shop")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@functools.cache
def _sqlite_template() -> Path:
    """This process's migrated SQLite database with the demo shop; it holds no signing key
    (each app registers its own at start-up)."""
    folder = Path(tempfile.mkdtemp(prefix="consent-test-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    _migrate_from_nothing(make_settings(folder, f"sqlite:///{path}"))
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    """Replace ``target``'s content with ``source``'s through SQLite's backup API, which also
    leaves no stale WAL of an earlier database at that path behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as original,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        original.backup(copy)


def shut_down(app: Flask) -> None:
    """Close the app's sessions and pooled connections (no ResourceWarning, no open locks)."""
    close_deferred_writes(app)  # the look-ups' log rows it still buffers written
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    app.extensions["region_resolver"].close()
    app.extensions["key_store"].close()


def demo_consent(visitor_id: uuid.UUID | None = None, **decisions: bool) -> dict[str, object]:
    """A valid custom choice on the demo shop's current privacy policy (version 2)."""
    chosen = {"preferences": True, "analytics": True, "marketing": False, "advertising": False}
    return {
        "property": "demo-shop",
        "visitor_id": str(visitor_id or uuid.uuid4()),
        "policy_version": 2,
        "method": "custom",
        "decisions": {**chosen, **decisions},
    }


def make_settings(instance_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.DEVELOPMENT,
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "signing_keys": (generate_signing_key("test-key-1"),),
        "base_url": "http://consent.test",
        "instance_path": instance_path,
        "max_body_bytes": 16 * 1024,
        "banner_cache_seconds": 0,  # every request sees a publication at once
        "api_key_cache_seconds": 0,  # a revocation is seen by the next request
        # Look-ups log in their own transaction, the one each test rolls back (the buffered
        # log, the default, has tests of its own).
        "access_log_flush_ms": 0,
        "data_keys": (DataKey("test-dk-1", b"k" * 32),),
        "blind_index_key": b"i" * 32,
        "webhook_allow_private_networks": True,  # test receivers listen on 127.0.0.1
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class ServedApp:
    """The real app on a free loopback port, served from a background thread.

    Binds first, then builds the app: receipts, banner links and emailed links name the
    service's public URL, which must be the address clients really talk to.
    """

    def __init__(self, instance_path: Path, database_url: str, **overrides: object) -> None:
        self._app: Flask | None = None
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        settings = make_settings(instance_path, database_url, base_url=self.url, **overrides)
        self.app = started_on_fresh_database(settings)
        self._app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        assert self._app is not None, "a request arrived before the app was built"
        return self._app(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()
        shut_down(self.app)


@contextlib.contextmanager
def statements_sent(engine: sa.Engine) -> Iterator[list[str]]:
    """Every SQL statement ``engine``'s driver is handed inside the block, Core's and those
    run on the driver itself (``infra.driver_statements``), which Core's events never see."""
    sent: list[str] = []
    dialect = engine.dialect
    originals = {name: getattr(dialect, name) for name in ("do_execute", "do_executemany")}

    def recording(run: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(cursor: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(statement)
            return run(cursor, statement, *args, **kwargs)

        return recorded

    for name, run in originals.items():
        setattr(dialect, name, recording(run))
    try:
        yield sent
    finally:
        for name, run in originals.items():
            setattr(dialect, name, run)


class MonotonicClock:
    """A monotonic clock (seconds, as ``time.monotonic``) that stands still until a test
    moves ``now``: for the caches that expire entries by it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
