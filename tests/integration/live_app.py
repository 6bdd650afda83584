"""The real app served over real HTTP on a loopback port from a thread, for the Python client.

Its database is its own (a SQLite file, or ``<TEST_DATABASE_URL's name>_live`` on PostgreSQL)
and is really committed to: the client talks to the app across a socket, so the per-test
rolled-back transaction of ``conftest.py`` cannot reach it, and must not be wiped by it.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from consent_service.integrations.api_keys import revoke_api_key
from consent_service.integrations.identity import create_identity_secret
from tests.support import ServedApp
from tests.support import demo_consent
from tests.support import own_database_url


class LiveApp(ServedApp):
    def __init__(self, instance_path: Path) -> None:
        super().__init__(instance_path, own_database_url(instance_path, "live"))

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
