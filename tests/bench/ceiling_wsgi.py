"""``gunicorn tests.bench.ceiling_wsgi:app``: the bare endpoint plus the least database work
each path needs, on the service's own database (``CEILING_DATABASE_URL``), straight on the
driver: a look-up reads one row by its key's index, a consent inserts one receipt-sized row
and commits it (durably, with the service's own settings). No authentication, validation,
decision, signature or log: what Flask, gunicorn, the driver and the database server on the
same cores leave for a path before any of the service's own work, the "framework's ceiling"
issue 14 measures against. :func:`prepare` makes its table; the bare endpoint answers the
banner, which needs no database.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from typing import Any

import psycopg
from flask import Flask
from flask import jsonify
from flask import request

from tests.bench.inprocess import bare_app
from tests.bench.seed import customer_ref

TABLE = "bench_ceiling"
CONNECTIONS = "ceiling_connections"
ROWS = 10_000


def prepare(database_url: str) -> None:
    """The ceiling's table, a row per seeded customer (``ROWS``), made afresh."""
    connection = connect(database_url)
    try:
        connection.execute("BEGIN")
        connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        connection.execute(f"CREATE TABLE {TABLE} (subject VARCHAR(80) PRIMARY KEY, body TEXT)")
        rows = [(f"customer:{customer_ref(i)}", "{}") for i in range(ROWS)]
        connection.cursor().executemany(f"INSERT INTO {TABLE} VALUES ({_marks(connection)})", rows)
        connection.execute("COMMIT")
    finally:
        connection.close()


def connect(database_url: str) -> Any:
    """A DBAPI connection in autocommit (a statement is its own transaction: one round trip),
    durable as the service's own: SQLite in WAL with ``synchronous=NORMAL`` and a busy
    timeout; PostgreSQL with its server's settings."""
    if database_url.startswith("postgresql"):
        url = database_url.replace("postgresql+psycopg", "postgresql")
        return psycopg.connect(url, autocommit=True)
    path = database_url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _marks(connection: Any) -> str:
    return "?, ?" if isinstance(connection, sqlite3.Connection) else "%s, %s"


def ceiling_app(database_url: str) -> Flask:
    app = bare_app()
    local = threading.local()
    opened: list[Any] = app.extensions.setdefault(CONNECTIONS, [])

    def connection() -> Any:
        if not hasattr(local, "connection"):
            local.connection = connect(database_url)
            opened.append(local.connection)
        return local.connection

    # Replaces the bare endpoint's answers for the two paths that touch the database.
    def read() -> Any:
        subject = request.args["subject"]
        db = connection()
        mark = _marks(db).split(",")[0]
        row = db.execute(f"SELECT body FROM {TABLE} WHERE subject = {mark}", (subject,)).fetchone()
        return jsonify(subject=subject, purpose=request.args["purpose"], found=row is not None)

    def write() -> Any:
        body = request.get_json()
        db = connection()
        db.execute(
            f"INSERT INTO {TABLE} VALUES ({_marks(db)})", (str(uuid.uuid4()), json.dumps(body))
        )
        return jsonify(ok=True, fields=len(body)), 201

    app.view_functions["echo_query"] = read
    app.view_functions["echo"] = write
    return app


def close(app: Flask) -> None:
    """Close the connections ``app``'s threads opened (a served one keeps them to its end)."""
    for connection in app.extensions.pop(CONNECTIONS, []):
        connection.close()


app = ceiling_app(os.environ.get("CEILING_DATABASE_URL", "sqlite:///:memory:"))
