"""Flask extensions, created unbound and attached in ``create_app``, and typed access to the
per-process services ``create_app`` keeps in ``app.extensions`` for the surfaces."""

from __future__ import annotations

from typing import Any
from typing import TypeVar

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from consent_service.banner.cache import BannerCache
from consent_service.consent.receipts import Issuer
from consent_service.infra.pii import Vault
from consent_service.infra.rate_limits import KeyRateLimiter
from consent_service.infra.ttl_cache import TtlCache
from consent_service.integrations.api_keys import CallerCache
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.models import Base
from consent_service.properties.lookup import ConsentContext
from consent_service.settings import Settings

db = SQLAlchemy(model_class=Base)
migrate = Migrate()

T = TypeVar("T")


def current_session() -> Session:
    """This request's (or command's) session, as the plain Session the domain functions take."""
    return db.session()


def settings() -> Settings:
    return _extension("consent_settings", Settings)


def vault() -> Vault:
    """The cipher and blind-index key that protect personal data at rest."""
    return _extension("vault", Vault)


def receipt_issuer() -> Issuer:
    return _extension("receipt_issuer", Issuer)


def region_resolver() -> RegionResolver:
    return _extension("region_resolver", RegionResolver)


def rate_limiter() -> KeyRateLimiter:
    return _extension("rate_limiter", KeyRateLimiter)


def caller_cache() -> CallerCache:
    """Verified API keys; ``forget()`` it when a key is revoked."""
    return _extension("caller_cache", CallerCache)


def context_cache() -> TtlCache[str, ConsentContext]:
    """Properties' consent contexts by key, as fresh as the banner."""
    return _extension("context_cache", TtlCache)


def banner_cache() -> BannerCache[Any, Any]:
    return _extension("banner_cache", BannerCache)


def _extension(name: str, kind: type[T]) -> T:
    found = current_app.extensions[name]
    if not isinstance(found, kind):
        raise TypeError(f"app.extensions[{name!r}] is a {type(found).__name__}, not a {kind}")
    return found
