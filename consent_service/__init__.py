"""Consent and cookie management service for online shops.

``create_app`` is imported lazily so that importing a domain module (the CLI, the worker, a
test) does not build the web app first. The Python client for shop backends is not part of
this package: it is its own distribution, ``consent-client`` (``clients/python/``).
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
