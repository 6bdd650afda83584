"""Consent and cookie management service for online shops.

``create_app`` is imported lazily so that ``consent_service.client`` (which shop backends
install) can be imported without Flask and the server's dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from consent_service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from consent_service.app import create_app

        return create_app
    raise AttributeError(name)
