"""The real app served over real HTTP on a loopback port from a thread, for the Python client.

Its database is its own (a SQLite file, or ``<TEST_DATABASE_URL's name>_live`` on PostgreSQL)
and is really committed to: the client talks to the app across a socket, so the per-test
rolled-back transaction of ``conftest.py`` cannot reach it, and must not be wiped by it.
"""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from consent_service.api_keys import create_api_key
from consent_service.api_keys import revoke_api_key
from consent_service.extensions import db
from consent_service.identity import create_identity_secret
from tests.support import demo_consent
from tests.support import ensure_postgres_database
from tests.support import make_settings
from tests.support import postgres_url
from tests.support import shut_down
from tests.support import started_on_fresh_database


def live_database_url(instance_path: Path) -> str:
    url = postgres_url()
    if not url:
        return f"sqlite:///{instance_path / 'live.db'}"
    parsed = make_url(url)
    live = parsed.set(database=f"{parsed.database}_live").render_as_string(hide_password=False)
    ensure_postgres_database(live)
    return live


class LiveApp:
    """Binds first, then builds the app, so the service's public URL is the real address."""

    def __init__(self, instance_path: Path) -> None:
        self._app: Flask | None = None
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        settings = make_settings(instance_path, live_database_url(instance_path), base_url=self.url)
        self.app = started_on_fresh_database(settings)
        self._app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        assert self._app is not None, "a request arrived before the app was built"
        return self._app(environ, start_response)

    def api_key(self, *scopes: str, name: str = "client tests") -> tuple[str, str]:
        """A new key for the demo shop: (the key as issued, its public id)."""
        with self.app.app_context():
            issued = create_api_key(db.session(), "demo-shop", name=name, scopes=scopes)
            db.session.commit()
            return issued.plaintext, issued.key.public_id

    def revoke(self, public_id: str) -> None:
        with self.app.app_context():
            revoke_api_key(db.session(), public_id)
            db.session.commit()

    def identity_secret(self) -> str:
        with self.app.app_context():
            _, secret = create_identity_secret(
                db.session(), self.app.extensions["vault"], "demo-shop"
            )
            db.session.commit()
            return secret

    def record_consent(self, visitor_id: uuid.UUID, **decisions: bool) -> dict[str, Any]:
        """A visitor's choice, posted as the widget posts it; the service's 201 body."""
        return self.post("/v1/consents", demo_consent(visitor_id, **decisions))

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
        return json.loads(data) if data else {}

    def get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()
        shut_down(self.app)
