"""Fixtures of the platform tests (``pytest_plugins = ["tests.browser.platform_fixtures"]``):
the vendors' stand-ins and the shop on origins of their own, and the demo shop's enabled
platforms, undone after each test."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.models import Property
from consent_service.properties.config_version import bump_config_version
from tests.browser.live_server import LiveServer
from tests.browser.platform_pages import Site
from tests.browser.platform_pages import vendor_site


@pytest.fixture(scope="module")
def vendors(chromium: Any) -> Iterator[Site]:
    site = vendor_site()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def shop_site(chromium: Any) -> Iterator[Site]:
    """The shop's own origin ("localhost", another port than the service's)."""
    site = Site(host="localhost")
    yield site
    site.stop()


@pytest.fixture
def platforms(live_server: LiveServer, shop_site: Site) -> Iterator[Callable[..., None]]:
    """``platforms(*names)`` enables those platforms on the demo shop, which also lets the
    shop's origin record choices; both are undone after the test."""

    def change(names: list[str], origins: Callable[[list[str]], list[str]]) -> None:
        with live_server.app.app_context():
            session = db.session()
            shop = session.scalar(sa.select(Property).where(Property.key == "demo-shop"))
            shop.platforms = names
            shop.allowed_origins = origins(list(shop.allowed_origins))
            bump_config_version(session, shop.id)
            session.commit()

    def enable(*names: str) -> None:
        change(list(names), lambda origins: [*origins, shop_site.url])

    yield enable
    change([], lambda origins: [o for o in origins if o != shop_site.url])
