"""Flask extensions, created unbound and attached in ``create_app``; the session views and
commands work in (``committed()``); and typed access to the per-process services
``create_app`` keeps in ``app.extensions`` for the surfaces."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any
from typing import Generic
from typing import TypeVar

from argon2 import PasswordHasher
from flask import Flask
from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from consent_service.banner.cache import BannerCache
from consent_service.consent.receipts import Issuer
from consent_service.consent.tokens import TokenIssuer
from consent_service.infra.database import commit_or_roll_back
from consent_service.infra.deferred_writes import DeferredWrites
from consent_service.infra.keystore import KeyStore
from consent_service.infra.pii import Vault
from consent_service.infra.rate_limits import KeyRateLimiter
from consent_service.infra.sessions import SessionRecords
from consent_service.integrations.api_keys import CallerCache
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.models import Base
from consent_service.properties.context_cache import ContextCache
from consent_service.settings import Settings

db = SQLAlchemy(model_class=Base)
migrate = Migrate()

T = TypeVar("T")


def current_session() -> Session:
    """This request's (or command's) session, as the plain Session the domain functions take."""
    return db.session()


def committed() -> AbstractContextManager[Session]:
    """This request's (or command's) session for a block that calls the domain: committed
    when the block ends, rolled back (and the error raised on) if it fails::

        with committed() as session:
            registered = register_endpoint(session, ...)
    """
    return commit_or_roll_back(current_session())


class AppService(Generic[T]):
    """One object ``create_app`` keeps per app in ``app.extensions[name]``: ``attach`` it
    there, call this for the current app's."""

    def __init__(self, name: str, kind: type[T]) -> None:
        self.name = name
        self._kind = kind

    def attach(self, app: Flask, value: T) -> T:
        app.extensions[self.name] = value
        return value

    def __call__(self) -> T:
        return self.of(current_app)

    def of(self, app: Flask) -> T:
        """``app``'s, for code that runs outside its context (``api.banner_shortcut``)."""
        found = app.extensions[self.name]
        # The exact type first: an isinstance of a generic class costs more than the lookup.
        if type(found) is not self._kind and not isinstance(found, self._kind):
            raise TypeError(f"app.extensions[{self.name!r}] holds a {type(found).__name__}")
        return found


settings = AppService("consent_settings", Settings)
# The cipher and blind-index key that protect personal data at rest.
vault = AppService("vault", Vault)
# The store of each person's key (crypto-shredding), outside the main database.
key_store = AppService("key_store", KeyStore)
receipt_issuer = AppService("receipt_issuer", Issuer)
# Signs consent tokens (its clock is injectable, for tests that age a token).
token_issuer = AppService("token_issuer", TokenIssuer)
region_resolver = AppService("region_resolver", RegionResolver)
rate_limiter = AppService("rate_limiter", KeyRateLimiter)
# Verified API keys; ``forget()`` them when a key is revoked.
caller_cache = AppService("caller_cache", CallerCache)
# Properties' consent contexts by key, each confirmed against the database's config_version.
context_cache = AppService("context_cache", ContextCache)
banner_cache: AppService[BannerCache[Any, Any]] = AppService("banner_cache", BannerCache)
# Writes requests leave to a background thread (``close()`` them when the app stops): the
# look-up log, and API keys' last use.
lookup_log = AppService("lookup_log", DeferredWrites)
api_key_marks = AppService("api_key_marks", DeferredWrites)


def close_deferred_writes(app: Flask) -> None:
    """Write what ``app``'s background writers still hold, and stop them: when the app stops
    (a gunicorn worker's exit, a test's teardown; the interpreter's exit does it anyway)."""
    for service in (lookup_log, api_key_marks):
        found = app.extensions.get(service.name)
        if isinstance(found, DeferredWrites):
            found.close()


# Server-side session records of the admin and the preferences page (their clock is injectable).
web_sessions = AppService("web_sessions", SessionRecords)
# Hashes admin passwords (argon2id; the test suite passes cheaper parameters to create_app).
password_hasher = AppService("password_hasher", PasswordHasher)
