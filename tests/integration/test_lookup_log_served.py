"""Served by gunicorn as in production (this repository's ``gunicorn.conf.py``, two worker
processes of several threads), every look-up of a burst is in the log after a clean shutdown
(SIGTERM to the master, which stops its workers), although each worker only buffered them:
the flush interval is an hour."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from consent_service.models import DecisionLogEntry
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import settings_environment
from tests.support import shut_down
from tests.support import started_on_fresh_database

pytestmark = pytest.mark.slow  # a gunicorn of its own
ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
PER_CLIENT = 15  # every fifth a bulk request of 3 subjects x 2 purposes
GUNICORN = ["--workers", "2", "--worker-class", "gthread", "--threads", "4", "--log-level", "error"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited during start-up"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not listen within 60 s")


def _client(port: int, token: str, n: int) -> dict[str, int]:
    """One keep-alive connection's look-ups: request id -> items answered."""
    answered = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": token, "Content-Type": "application/json"}
    try:
        for i in range(PER_CLIENT):
            if i % 5 == 4:
                body = {
                    "subjects": [f"visitor:{uuid.uuid4()}", f"customer:s-{n}-{i}", "customer:x"],
                    "purposes": ["marketing", "analytics"],
                }
                connection.request("POST", "/v1/decisions", json.dumps(body), headers)
            else:
                path = f"/v1/decisions?subject=customer:s-{n}-{i}&purpose=marketing"
                connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert response.status == 200, answer
            answered[response.getheader("X-Request-ID")] = len(answer.get("decisions", [0]))
    finally:
        connection.close()
    return answered


def test_every_look_up_served_by_gunicorn_is_logged_after_sigterm(tmp_path: Path):
    url = own_database_url(tmp_path, "lookup_log_served")
    settings = make_settings(tmp_path, url)
    app = started_on_fresh_database(settings)
    with app.app_context():
        issued = create_api_key(
            db.session(), "demo-shop", name="served", scopes=["consent:read"], rate_limit=None
        )
        db.session.commit()
        db.session.remove()
    shut_down(app)
    port = _free_port()
    env = {**settings_environment(settings), "CONSENT_ACCESS_LOG_FLUSH_MS": "3600000"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *GUNICORN, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    try:
        _wait_until_listening(port, server)
        token = f"Bearer {issued.plaintext}"
        with ThreadPoolExecutor(CLIENTS) as pool:
            parts = list(pool.map(lambda n: _client(port, token, n), range(CLIENTS)))
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    answered = {request_id: items for part in parts for request_id, items in part.items()}
    assert len(answered) == CLIENTS * PER_CLIENT
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            log = DecisionLogEntry.__table__
            logged = dict(connection.execute(sa.select(log.c.request_id, log.c.item_count)).all())
    finally:
        engine.dispose()
    assert logged == answered
