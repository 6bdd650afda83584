"""The composition root: settings, extensions, error handling, blueprints, CLI."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from flask import Flask
from flask import Response
from flask.cli import FlaskGroup
from sqlalchemy import exc as sa_exc

from consent_service import extensions
from consent_service.banner.cache import BannerCache
from consent_service.consent.receipts import Issuer
from consent_service.consent.tokens import TokenIssuer
from consent_service.decisions.access_log import lookup_log
from consent_service.errors import KeyStoreUnavailable
from consent_service.extensions import db
from consent_service.extensions import migrate
from consent_service.infra.database import configure_engine
from consent_service.infra.deferred_writes import DeferredWrites
from consent_service.infra.keystore import KeyStore
from consent_service.infra.pii import Cipher
from consent_service.infra.pii import Vault
from consent_service.infra.rate_limits import KeyRateLimiter
from consent_service.infra.sessions import SessionRecords
from consent_service.integrations.api_keys import CallerCache
from consent_service.integrations.api_keys import mark_used_statement
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.problems import register_error_handlers
from consent_service.properties.context_cache import ContextCache
from consent_service.settings import Settings
from consent_service.settings import SettingsError
from consent_service.settings import check_region_sources
from consent_service.staff.accounts import DEFAULT_HASHER
from consent_service.web.common_headers import common_headers
from consent_service.web.cookie_session import CookiePathSessions
from consent_service.web.request_ids import request_id
from consent_service.web.request_limits import refuse_unreadable_requests

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, password_hasher: PasswordHasher = DEFAULT_HASHER
) -> Flask:
    """The app for ``settings`` (default: from the environment).

    ``password_hasher`` hashes admin passwords: argon2id with the library's recommended
    parameters, unless the caller (the test suite) passes cheaper ones.
    """
    settings = settings or Settings.from_env()
    # No app-wide static folder: each blueprint serves its own (the preferences site at /static/).
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder=None)
    app.config.update(settings.flask_config())
    extensions.settings.attach(app, settings)
    _configure_logging(settings)

    db.init_app(app)
    extensions.rate_limiter.attach(app, KeyRateLimiter(settings.rate_limit_storage))
    extensions.caller_cache.attach(app, CallerCache(ttl=settings.api_key_cache_seconds))
    # Look-ups and consents see a publication (or a purpose change) at once.
    extensions.context_cache.attach(app, ContextCache())
    cipher = Cipher(settings.data_keys)
    key_store = extensions.key_store.attach(
        app,
        KeyStore(settings.key_store, cipher, connect_timeout=settings.database_connect_timeout),
    )
    check_master_keys(key_store, settings)
    extensions.vault.attach(app, Vault(cipher, settings.blind_index_key, key_store))
    extensions.password_hasher.attach(app, password_hasher)
    extensions.web_sessions.attach(app, SessionRecords())
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    issuer = extensions.receipt_issuer.attach(
        app, Issuer(settings.signing_keys[0], settings.base_url)
    )
    # Consent tokens are signed with the receipts' key, so the same JWKS verifies both.
    extensions.token_issuer.attach(
        app, TokenIssuer(settings.signing_keys[0], dt.timedelta(seconds=settings.token_ttl))
    )
    # Raises GeoIPDatabaseError for an unusable database: better at start-up than per visitor.
    resolver = RegionResolver(
        settings.region_headers,
        settings.geoip_database,
        trusted_proxy_hops=settings.trusted_proxy_hops,
    )
    try:
        check_region_sources(settings, resolver.country_only_sources)
    except SettingsError:
        resolver.close()
        raise
    extensions.region_resolver.attach(app, resolver)
    rulebook()  # a malformed rulebook stops start-up instead of failing the first visitor
    extensions.banner_cache.attach(app, BannerCache(ttl=settings.banner_cache_seconds))
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine, settings.database_time_limits())
        issuer.register(db.engine)
        # Written by a background thread: a look-up never waits for the database's writer.
        flush_seconds = settings.access_log_flush_ms / 1000
        wait_seconds = settings.database_statement_timeout_ms / 1000
        extensions.lookup_log.attach(
            app, lookup_log(db.engine, flush_seconds=flush_seconds, wait_seconds=wait_seconds)
        )
        extensions.api_key_marks.attach(
            app,
            DeferredWrites(
                db.engine,
                mark_used_statement(),
                flush_seconds=flush_seconds,
                wait_seconds=wait_seconds,
                name="API key marks",
            ),
        )

    register_error_handlers(app)
    _register_request_hooks(app)
    app.session_interface = CookiePathSessions()

    from admin import bp as admin_bp
    from consent_service.api import banner_shortcut
    from consent_service.api import bp as api_bp
    from consent_service.cli import register_cli
    from consent_service.preferences import bp as preferences_bp
    from widget import bp as widget_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(preferences_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(admin_bp)
    banner_shortcut.install(app)
    register_cli(app)

    if not settings.is_production:
        log.warning(
            "consent-service is running in DEVELOPMENT mode (CONSENT_ENV=development) with "
            "secrets from %s; set CONSENT_ENV=production for real traffic.",
            settings.instance_path,
        )
    return app


def cli_main() -> None:
    """The ``consent-service`` console script: Flask's CLI around this app. A command that
    meets a database without this code's tables ends with one sentence saying what to run,
    not a driver traceback."""
    try:
        FlaskGroup(create_app=create_app, help="Consent and cookie management service.")()
    except sa_exc.DBAPIError:
        database_url = Settings.from_env().database_url
        if migrations_pending(database_url):
            sys.exit(
                f"The database {sa.make_url(database_url).render_as_string(hide_password=True)} "
                "is not migrated to this version of consent-service: run "
                "`consent-service db upgrade` first."
            )
        raise


def migrations_pending(database_url: str) -> bool:
    """Whether the database's Alembic revision is not (or no longer) this code's head."""
    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current != heads


def check_master_keys(key_store: KeyStore, settings: Settings) -> None:
    """Refuse to start when person keys are wrapped under a master key no longer configured
    (every person sealed under it would read as unreadable); a store that cannot be reached
    now is only logged: requests that need it fail closed."""
    try:
        status = key_store.status(key.kid for key in settings.data_keys)
    except KeyStoreUnavailable:
        log.warning("the key store is not answering at start-up; sealed data waits for it")
        return
    if status.unknown_kids:
        key_store.close()
        raise SettingsError(
            "CONSENT_DATA_KEYS lacks "
            + ", ".join(status.unknown_kids)
            + ", which still wrap person keys: put it back, then run "
            "`consent-service keystore rewrap` before removing it"
        )


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _register_request_hooks(app: Flask) -> None:
    app.before_request(refuse_unreadable_requests)

    @app.after_request
    def _common_headers(response: Response) -> Response:
        for name, value in common_headers(request_id()):
            response.headers[name] = value
        return response
