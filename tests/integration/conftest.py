"""Helpers to record consents straight through the domain (no HTTP), for integration tests."""

from __future__ import annotations

import uuid

import pytest

from consent_service.receipts import ConsentRequest
from consent_service.receipts import Method
from consent_service.receipts import record_consent


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
