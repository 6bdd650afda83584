"""Fixtures for integration tests: consents recorded straight through the domain (no HTTP),
API keys, and admin clients signed in as each role."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import record_consent
from tests.integration.test_admin_support import signed_in
from tests.webhook_receiver import running_receiver


class MovableClock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def session_clock(app, monkeypatch) -> MovableClock:
    """The clock the admin's and the preferences page's session records go by."""
    clock = MovableClock()
    monkeypatch.setattr(app.extensions["web_sessions"], "clock", clock)
    return clock


@pytest.fixture
def issuer(app):
    return app.extensions["receipt_issuer"]


@pytest.fixture
def record(session, issuer):
    """``record(visitor, method, **decisions)`` records a consent on the current policy."""

    def _record(
        visitor: uuid.UUID,
        method: str = "custom",
        *,
        issuer=issuer,
        now=None,
        gpc: bool = False,
        **decisions: bool,
    ):
        if method == "custom":
            decisions = {
                "preferences": False,
                "analytics": False,
                "marketing": False,
                "advertising": False,
                **decisions,
            }
        request = ConsentRequest(
            property_key="demo-shop",
            visitor_id=visitor,
            policy_version=2,
            method=Method(method),
            decisions=decisions,
            gpc=gpc,
        )
        return record_consent(session, request, issuer=issuer, now=now)

    return _record


@pytest.fixture
def api_key(session):
    """``api_key(*scopes, rate_limit=None)`` creates a committed key and returns auth headers."""
    from consent_service.integrations.api_keys import create_api_key

    def _make(*scopes: str, rate_limit: str | None = None, property_key: str = "demo-shop"):
        issued = create_api_key(
            session,
            property_key,
            name="test",
            scopes=scopes or ("consent:read",),
            rate_limit=rate_limit,
        )
        session.commit()
        return {"Authorization": f"Bearer {issued.plaintext}"}

    return _make


@pytest.fixture
def consent_via_widget(client):
    """``consent_via_widget(visitor, region="FR", **decisions)`` posts a custom choice."""
    from tests.support import demo_consent

    def _post(visitor: uuid.UUID, region: str = "FR", **decisions: bool):
        response = client.post(
            "/v1/consents",
            json=demo_consent(visitor, **decisions),
            query_string={"region": region},
        )
        assert response.status_code == 201, response.json
        return response.json

    return _post


# --- the admin, signed in as each role ---------------------------------------------------------


@pytest.fixture
def vault(app):
    return app.extensions["vault"]


@pytest.fixture
def viewer(app, session):
    return signed_in(app, session, "viewer")


@pytest.fixture
def editor(app, session):
    return signed_in(app, session, "editor")


@pytest.fixture
def publisher(app, session):
    return signed_in(app, session, "publisher")


@pytest.fixture
def receiver():
    """A webhook receiver on a loopback port of its own, for the test's duration."""
    with running_receiver() as receiver:
        yield receiver
