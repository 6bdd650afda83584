"""The one place that reads the environment.

Every setting is a ``CONSENT_*`` variable. In development (the default) missing secrets are
generated once into the instance folder so ``make run`` works with no configuration; in
production a missing secret stops the service at start-up, all missing names listed at once.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import json
import logging
import os
import secrets
import sys
import urllib.parse
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import TypeVar

from sqlalchemy.engine import make_url

from consent_service.errors import InternalError
from consent_service.infra.database import TimeLimits
from consent_service.infra.pii import DataKey
from consent_service.infra.pii import generate_data_key
from consent_service.infra.pii import parse_data_keys
from consent_service.infra.rate_limits import parsed_limit
from consent_service.infra.signing import SigningKey
from consent_service.infra.signing import generate_signing_key
from consent_service.infra.signing import parse_signing_keys
from consent_service.jurisdictions.regions import RegionHeader
from consent_service.jurisdictions.regions import parse_region_headers
from consent_service.retention.schedule import parse_setting as parse_retention_setting

log = logging.getLogger(__name__)

DEV_SECRETS_FILE = "dev-secrets.json"


class SettingsError(InternalError):
    """The environment does not describe a service that can start: the operator's to fix
    before start-up, so an InternalError, not a documented problem type."""


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


T = TypeVar("T")


def _from(parse: Callable[[str, str], T], default: T, *, secret: bool = False) -> T:
    """A setting with a default, read from ``CONSENT_<FIELD NAME>`` by ``parse(name, text)``
    when that variable is set (and not blank): the one place its default is stated."""
    return dataclasses.field(default=default, repr=not secret, metadata={"parse": parse})


def _text(name: str, raw: str) -> str:
    return raw


def _positive_int(name: str, raw: str) -> int:
    value = _int(name, raw)
    if value <= 0:
        raise SettingsError(f"{name} must be positive; got {value}")
    return value


def _non_negative_int(name: str, raw: str) -> int:
    value = _int(name, raw)
    if value < 0:
        raise SettingsError(f"{name} must be 0 or more; got {value}")
    return value


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer; got {raw!r}") from None


def _non_negative_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number; got {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise SettingsError(f"{name} must be 0 or more; got {raw!r}")
    return value


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false; got {value!r}")


def _rate_limit(name: str, raw: str) -> str:
    try:
        parsed_limit(raw)
    except ValueError:
        raise SettingsError(f"{name} must read like '1200/minute'; got {raw!r}") from None
    return raw


def _retention(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_retention_setting(raw).items())
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


# A consent token proves a decision until its ``exp``: minutes, so a withdrawal made elsewhere
# (or a stolen token) outlives the truth for minutes at most; at least a minute, so the widget's
# refresh (with a third of the life left) is not on every page.
TOKEN_TTL_RANGE = (60, 86_400)


def _token_ttl(name: str, raw: str) -> int:
    value = _int(name, raw)
    low, high = TOKEN_TTL_RANGE
    if not low <= value <= high:
        raise SettingsError(f"{name} must be {low} to {high} seconds; got {value}")
    return value


def _log_level(name: str, raw: str) -> str:
    return raw.strip().upper()


def _region_headers(name: str, raw: str) -> tuple[RegionHeader, ...]:
    try:
        return parse_region_headers(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


@dataclasses.dataclass(frozen=True)
class ScheduledScan:
    """One property's scheduled compliance scan (``CONSENT_SCAN_SCHEDULE``, README "Compliance
    scanner"): its start URLs, how often, which regions (empty: the scanner's defaults), how
    many pages and how long at most."""

    property: str
    urls: tuple[str, ...]
    every: dt.timedelta = dt.timedelta(hours=24)
    regions: tuple[str, ...] = ()
    pages: int = 10
    time_limit: dt.timedelta = dt.timedelta(minutes=30)


_SCHEDULE_KEYS = {"property", "urls", "every_hours", "regions", "pages", "time_limit_minutes"}


def _scan_schedule(name: str, raw: str) -> tuple[ScheduledScan, ...]:
    """A JSON list: ``[{"property": "shop", "urls": ["https://shop.example/"], "every_hours":
    24, "regions": ["FR", "US-CA"], "pages": 10, "time_limit_minutes": 30}]``."""
    try:
        entries = json.loads(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a JSON list of scans") from None
    if not isinstance(entries, list):
        raise SettingsError(f"{name} must be a JSON list of scans")
    return tuple(_scheduled_scan(f"{name}[{i}]", entry) for i, entry in enumerate(entries))


def _scheduled_scan(where: str, entry: object) -> ScheduledScan:
    if not isinstance(entry, dict) or set(entry) - _SCHEDULE_KEYS:
        raise SettingsError(f"{where} must be an object with keys {sorted(_SCHEDULE_KEYS)}")
    prop, urls, regions = entry.get("property"), entry.get("urls"), entry.get("regions", [])
    if not isinstance(prop, str) or not prop:
        raise SettingsError(f"{where}.property must name a property")
    if not isinstance(urls, list) or not urls or not all(_is_http_url(u) for u in urls):
        raise SettingsError(f"{where}.urls must be a non-empty list of http(s) URLs")
    if not isinstance(regions, list) or not all(isinstance(r, str) and r for r in regions):
        raise SettingsError(f"{where}.regions must be a list of region codes")

    def number(key: str, default: float, low: float, high: float) -> float:
        value = entry.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise SettingsError(f"{where}.{key} must be a number from {low:g} to {high:g}")
        return float(value)

    return ScheduledScan(
        property=prop,
        urls=tuple(urls),
        every=dt.timedelta(hours=number("every_hours", 24, 0.25, 24 * 366)),
        regions=tuple(regions),
        pages=int(number("pages", 10, 1, 500)),
        time_limit=dt.timedelta(minutes=number("time_limit_minutes", 30, 1, 24 * 60)),
    )


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    environment: Environment
    database_url: str
    secret_key: str = dataclasses.field(repr=False)
    signing_keys: tuple[SigningKey, ...] = dataclasses.field(repr=False)
    base_url: str
    instance_path: Path
    max_body_bytes: int = _from(_positive_int, 16 * 1024)
    log_level: str = _from(_log_level, "INFO")
    # Region resolution (ARCHITECTURE §5). No CDN header is trusted unless configured: a header
    # from the open internet must not choose the law that applies.
    region_headers: tuple[RegionHeader, ...] = _from(_region_headers, ())
    geoip_database: Path | None = None
    trusted_proxy_hops: int = _from(_non_negative_int, 0)
    # Production refuses region sources that name only countries unless this says the operator
    # accepts that every US visitor gets California's banner (see check_region_sources).
    allow_country_only_regions: bool = _from(_flag, False)
    # How stale a process's view of a property's banner, and the configuration look-ups
    # judge by, may get after a publication.
    banner_cache_seconds: int = _from(_non_negative_int, 2)
    # How long a look-up's access-log row may wait in this process's buffer before a
    # background thread writes it (``infra/buffered_inserts.py``): what a crash can lose.
    # 0: each look-up writes its row in its own transaction (on SQLite, behind other writers).
    access_log_flush_ms: int = _from(_non_negative_int, 200)
    # Personal data at rest (emails, integration secrets): AES-GCM keys, the first current.
    data_keys: tuple[DataKey, ...] = dataclasses.field(repr=False)
    # HMAC key of the blind indexes that find encrypted emails; it cannot rotate in place.
    blind_index_key: bytes = dataclasses.field(repr=False)
    # Where each person's key lives, wrapped (``infra/keystore.py``): a database of its own,
    # backed up apart from the main one, so erasing a key reaches every backup of the main one.
    # Empty: a SQLite file in the instance folder (see ``key_store``).
    key_store_url: str = dataclasses.field(default="", repr=False)
    # Rate-limit storage (``limits``): memory:// embedded, redis://host:6379 with several processes.
    rate_limit_storage: str = _from(_text, "memory://")
    # The deployment runs one process: the only way production accepts memory:// (each process
    # of several would count on its own, multiplying every limit).
    single_process: bool = _from(_flag, False)
    # Each API key's limit unless the key sets its own.
    api_rate_limit: str = _from(_rate_limit, "1200/minute")
    # How long a process may keep trusting a verified API key: a revocation reaches every
    # process within this time (the revoking process at once).
    api_key_cache_seconds: int = _from(_non_negative_int, 2)
    # Lifetime of identity tokens the shop backend signs for the widget to pass along.
    identity_token_max_age: int = _from(_positive_int, 1800)
    # Seconds a consent token (README "Consent tokens") stays valid after it is issued.
    token_ttl: int = _from(_token_ttl, 900)
    # Whether webhook endpoints may resolve to loopback / private addresses (SSRF guard).
    # From the environment: allowed in development unless set (see ``from_env``).
    webhook_allow_private_networks: bool = _from(_flag, False)
    # Admin sessions end after this many idle minutes, and after ``admin_session_hours`` anyway.
    admin_idle_minutes: int = _from(_positive_int, 30)
    admin_session_hours: int = _from(_positive_int, 12)
    # Sign-in attempts (password and second-factor steps) per client IP; accounts also lock.
    admin_sign_in_rate_limit: str = _from(_rate_limit, "10/minute")
    # Sign-in links the preferences page emails: per client IP and per address asked for.
    magic_link_rate_limit_ip: str = _from(_rate_limit, "20/hour")
    magic_link_rate_limit_address: str = _from(_rate_limit, "5/hour")
    # How long the service waits on its database (README "Database outages"): to connect (and
    # to ping a pooled connection), for each statement (PostgreSQL's statement_timeout, SQLite's
    # busy timeout), and for a free connection from the pool.
    database_connect_timeout: int = _from(_positive_int, 3)
    database_statement_timeout_ms: int = _from(_positive_int, 30_000)
    database_pool_timeout: int = _from(_positive_int, 5)
    # Policy-change notices (``messaging/email.py``): the SMTP relay, the sender, the pace.
    smtp_host: str = _from(_text, "localhost")
    smtp_port: int = _from(_positive_int, 1025)
    # From the environment: on in production unless set (see ``from_env``).
    smtp_starttls: bool = _from(_flag, False)
    smtp_username: str | None = _from(_text, None)
    smtp_password: str | None = _from(_text, None, secret=True)
    smtp_from: str = _from(_text, "consent-service@localhost")
    smtp_reply_to: str | None = _from(_text, None)
    # An address for RFC 2369 ``mailto:`` unsubscribes besides the one-click URL (optional).
    smtp_unsubscribe_mailto: str | None = _from(_text, None)
    # Messages per second per worker process; 0: unthrottled.
    smtp_rate_limit: float = _from(_non_negative_float, 10.0)
    # Retention periods other than policies/retention.toml's, ``kind=duration`` pairs
    # (``decision_log=P90D,receipts.DE=P4Y``); never below a kind's legal floor.
    retention: tuple[tuple[str, str], ...] = _from(_retention, ())
    # The compliance scanner's browser (Debian's chromium) and the worker's scan schedule.
    scan_browser: str = _from(_text, "/usr/bin/chromium")
    scan_schedule: tuple[ScheduledScan, ...] = _from(_scan_schedule, ())

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def flask_config(self) -> dict[str, object]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            # The session cookie is only the admin's (ARCHITECTURE §7).
            "SESSION_COOKIE_NAME": "consent_admin",
            "SESSION_COOKIE_PATH": "/admin",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Strict",
            "SESSION_COOKIE_SECURE": self.is_production,
            "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=self.admin_session_hours),
            # A logged traceback never shows a statement's values (emails, references).
            "SQLALCHEMY_ENGINE_OPTIONS": {**self._engine_options(), "hide_parameters": True},
        }

    def _engine_options(self) -> dict[str, object]:
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite":
            # An in-memory database has one connection and no pool to wait on.
            in_memory = url.database in (None, "", ":memory:")
            return {} if in_memory else {"pool_timeout": self.database_pool_timeout}
        return {
            # A server connection can die while pooled (a file cannot): one idle for a
            # second is pinged before use (``infra.database._ping_when_idle``).
            "pool_timeout": self.database_pool_timeout,
            "connect_args": {
                "connect_timeout": self.database_connect_timeout,
                "options": f"-c statement_timeout={self.database_statement_timeout_ms}",
                # A peer gone from the network is noticed on idle and busy connections alike.
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
                "tcp_user_timeout": self.database_statement_timeout_ms,
            },
        }

    @property
    def key_store(self) -> str:
        """The key store's SQLAlchemy URL: the configured one, else a SQLite file beside the
        embedded database (``make run`` needs nothing new)."""
        return self.key_store_url or f"sqlite:///{self.instance_path / 'keys.db'}"

    def database_time_limits(self) -> TimeLimits:
        return TimeLimits(
            connect=float(self.database_connect_timeout),
            statement=self.database_statement_timeout_ms / 1000,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: the process environment)."""
        env = dict(os.environ if environ is None else environ)
        environment = _parse_environment(env.get("CONSENT_ENV", "development"))
        instance_path = Path(env.get("CONSENT_INSTANCE_PATH") or default_instance_path()).resolve()
        if environment is Environment.PRODUCTION:
            required = [
                "CONSENT_DATABASE_URL",
                "CONSENT_SECRET_KEY",
                "CONSENT_SIGNING_KEYS",
                "CONSENT_BASE_URL",
                "CONSENT_DATA_KEYS",
                "CONSENT_BLIND_INDEX_KEY",
                "CONSENT_KEY_STORE_URL",
            ]
            missing = [name for name in required if not env.get(name)]
            if missing:
                raise SettingsError(
                    "production mode refuses to start without: " + ", ".join(missing)
                )
            secret_key = env["CONSENT_SECRET_KEY"]
            signing_spec = env["CONSENT_SIGNING_KEYS"]
            data_key_spec = env["CONSENT_DATA_KEYS"]
            index_key_spec = env["CONSENT_BLIND_INDEX_KEY"]
        else:
            dev = _dev_secrets(instance_path, env)
            secret_key = env.get("CONSENT_SECRET_KEY") or dev["secret_key"]
            signing_spec = env.get("CONSENT_SIGNING_KEYS") or dev["signing_keys"]
            data_key_spec = env.get("CONSENT_DATA_KEYS") or dev["data_keys"]
            index_key_spec = env.get("CONSENT_BLIND_INDEX_KEY") or dev["blind_index_key"]
        if environment is Environment.PRODUCTION and len(secret_key) < 32:
            raise SettingsError("CONSENT_SECRET_KEY must be at least 32 characters")
        try:
            signing_keys = parse_signing_keys(signing_spec)
        except ValueError as exc:
            raise SettingsError(f"CONSENT_SIGNING_KEYS: {exc}") from None
        try:
            data_keys = parse_data_keys(data_key_spec)
        except ValueError as exc:
            raise SettingsError(f"CONSENT_DATA_KEYS: {exc}") from None
        blind_index_key = _blind_index_key(index_key_spec)
        database_url = (
            env.get("CONSENT_DATABASE_URL") or f"sqlite:///{instance_path / 'consent.db'}"
        )
        key_store_url = _key_store_url(env.get("CONSENT_KEY_STORE_URL", "").strip(), database_url)
        optional = _optional_settings(cls, env)
        # Two defaults depend on the environment: private webhook targets (test receivers,
        # local tools) are fine in development, and production mail goes out over TLS.
        optional.setdefault(
            "webhook_allow_private_networks", environment is Environment.DEVELOPMENT
        )
        optional.setdefault("smtp_starttls", environment is Environment.PRODUCTION)
        _check_rate_limit_storage(environment, optional)
        geoip_database = _geoip_database(env, environment)
        if (
            environment is Environment.PRODUCTION
            and not optional.get("region_headers")
            and not geoip_database
        ):
            log.warning(
                "no CONSENT_REGION_HEADERS and no CONSENT_GEOIP_DATABASE: every visitor's "
                "region is unknown and gets the strictest rule"
            )
        return cls(
            environment=environment,
            database_url=database_url,
            key_store_url=key_store_url,
            secret_key=secret_key,
            signing_keys=signing_keys,
            base_url=_base_url(env.get("CONSENT_BASE_URL") or "http://127.0.0.1:8000", environment),
            instance_path=instance_path,
            geoip_database=geoip_database,
            data_keys=data_keys,
            blind_index_key=blind_index_key,
            **optional,
        )


def _optional_settings(cls: type[Settings], env: Mapping[str, str]) -> dict[str, Any]:
    """The settings declared with ``_from`` whose variable is set: the rest keep their
    defaults."""
    found: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        parse = field.metadata.get("parse")
        name = f"CONSENT_{field.name.upper()}"
        raw = env.get(name, "")
        if parse is not None and raw.strip():
            found[field.name] = parse(name, raw)
    return found


def _check_rate_limit_storage(environment: Environment, optional: Mapping[str, Any]) -> None:
    """Counts kept in memory are per process: with several, every limit (API keys, sign-in
    attempts, magic links) silently multiplies by their number."""
    storage = str(optional.get("rate_limit_storage", "memory://"))
    if not storage.startswith("memory://") or optional.get("single_process"):
        return
    explanation = (
        "CONSENT_RATE_LIMIT_STORAGE is memory://, which counts rate limits per process: with "
        "several processes each limit multiplies by their number. Set "
        "CONSENT_RATE_LIMIT_STORAGE=redis://host:6379/0 (shared by every process), or "
        "CONSENT_SINGLE_PROCESS=true if this deployment really runs one process"
    )
    if environment is Environment.PRODUCTION:
        raise SettingsError(f"production mode refuses to start: {explanation}")
    log.warning("RATE LIMITS ARE PER PROCESS: %s.", explanation)


def check_region_sources(settings: Settings, country_only: Sequence[str]) -> None:
    """Region sources that name only countries cannot tell a Californian from a Wyomingite:
    every visitor in a country whose subdivisions set the law gets the strictest of them.
    Lawful, but costly to a shop, so production refuses it unless the operator allows it with
    CONSENT_ALLOW_COUNTRY_ONLY_REGIONS=true; otherwise (and then) a warning names the cost."""
    if not country_only:
        return
    explanation = (
        f"{'; '.join(country_only)} gives only a country, never the state or province: "
        "visitors in countries whose law is set per subdivision (US, CA) get the strictest "
        "rule of any of their subdivisions (every US visitor sees California's banner, with "
        "its Do Not Sell or Share links and GPC; every Canadian gets Quebec's opt-in). Add the "
        "CDN's subdivision header (CountryHeader:SubdivisionHeader) or use a City database"
    )
    if settings.is_production and not settings.allow_country_only_regions:
        raise SettingsError(
            f"production mode refuses to start: {explanation}, or set "
            "CONSENT_ALLOW_COUNTRY_ONLY_REGIONS=true to accept this"
        )
    log.warning("COUNTRY-ONLY REGIONS: %s.", explanation)


def _base_url(raw: str, environment: Environment) -> str:
    """The service's public URL, which every link it hands out starts with. Production needs
    HTTPS: one-click unsubscribe URLs must be (RFC 8058 §3.1), and sign-in and preferences
    links carry tokens; development serves plain HTTP on a local port."""
    url = raw.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"CONSENT_BASE_URL must be an http(s) URL with a host; got {raw!r}")
    if environment is Environment.PRODUCTION and parts.scheme != "https":
        raise SettingsError(
            f"production mode refuses to start: CONSENT_BASE_URL is {raw!r}, but the links "
            "it sends (one-click unsubscribe, RFC 8058 §3.1; sign-in and preferences links "
            "with their tokens) must be https://; set CONSENT_BASE_URL to the service's "
            "https:// address"
        )
    return url


def _parse_environment(value: str) -> Environment:
    try:
        return Environment(value.strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in Environment)
        raise SettingsError(f"CONSENT_ENV must be one of: {allowed}; got {value!r}") from None


def _key_store_url(raw: str, database_url: str) -> str:
    """Person keys kept in the main database would be in each of its backups, and erasing
    one would not reach them: the key store must be another database."""
    if not raw:
        return ""
    try:
        url = make_url(raw)
    except Exception:
        raise SettingsError("CONSENT_KEY_STORE_URL is not a database URL") from None
    main = make_url(database_url)
    same_place = (url.get_backend_name(), url.host, url.port, url.database) == (
        main.get_backend_name(),
        main.host,
        main.port,
        main.database,
    )
    if same_place:
        raise SettingsError(
            "CONSENT_KEY_STORE_URL must name another database than CONSENT_DATABASE_URL: "
            "person keys kept beside the data they seal would be in every backup of it"
        )
    return raw


def _blind_index_key(spec: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(spec + "=" * (-len(spec) % 4))
    except ValueError:
        raise SettingsError("CONSENT_BLIND_INDEX_KEY must be base64url") from None
    if len(key) < 32:
        raise SettingsError("CONSENT_BLIND_INDEX_KEY must hold at least 32 bytes")
    return key


def _geoip_database(env: Mapping[str, str], environment: Environment) -> Path | None:
    """A missing database stops production (every visitor would silently become "unknown");
    in development the service runs without GeoIP and says so."""
    raw = env.get("CONSENT_GEOIP_DATABASE", "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if path.is_file():
        return path
    message = f"CONSENT_GEOIP_DATABASE: no such file: {path}"
    if environment is Environment.PRODUCTION:
        raise SettingsError(message)
    log.warning("%s; running without GeoIP look-ups (development mode)", message)
    return None


def default_instance_path() -> Path:
    """Where the instance folder is when ``CONSENT_INSTANCE_PATH`` is unset, whatever the working
    directory: ``instance/`` beside the package in a source checkout (``make run``'s), else
    ``<sys.prefix>/var/consent-service-instance`` (Flask's rule for an installed package). A
    command run from another folder must find the same database and secrets, never create new
    ones there."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():
        return root / "instance"
    return Path(sys.prefix) / "var" / "consent-service-instance"


def _dev_secrets(instance_path: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Load (or create once) development secrets kept in the instance folder.

    Secrets a newer release needs are added to an existing file, never replacing one that
    data may already depend on. The file is readable by its owner only; these secrets never
    leave the machine they were made on.
    """
    path = instance_path / DEV_SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    makers = {
        "secret_key": lambda: secrets.token_urlsafe(48),
        "signing_keys": lambda: generate_signing_key().spec(),
        "data_keys": lambda: generate_data_key().spec(),
        "blind_index_key": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    env_names = {
        "secret_key": "CONSENT_SECRET_KEY",
        "signing_keys": "CONSENT_SIGNING_KEYS",
        "data_keys": "CONSENT_DATA_KEYS",
        "blind_index_key": "CONSENT_BLIND_INDEX_KEY",
    }
    missing = [name for name in makers if name not in stored and not env.get(env_names[name])]
    if not missing:
        return stored
    values = {**stored, **{name: makers[name]() for name in missing}}
    instance_path.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    os.replace(temporary, path)
    log.warning(
        "DEVELOPMENT MODE: generated %s into %s. Never use them in production; set "
        "CONSENT_ENV=production with CONSENT_SECRET_KEY, CONSENT_SIGNING_KEYS, "
        "CONSENT_DATA_KEYS and CONSENT_BLIND_INDEX_KEY.",
        ", ".join(missing),
        path,
    )
    return values
