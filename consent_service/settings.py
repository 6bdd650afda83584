"""The one place that reads the environment.

Every setting is a ``CONSENT_*`` variable. In development (the default) missing secrets are
generated once into the instance folder so ``make run`` works with no configuration; in
production a missing secret stops the service at start-up, all missing names listed at once.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from consent_service.regions import RegionHeader
from consent_service.regions import parse_region_headers
from consent_service.signing import SigningKey
from consent_service.signing import generate_signing_key
from consent_service.signing import parse_signing_keys

log = logging.getLogger(__name__)

DEV_SECRETS_FILE = "dev-secrets.json"


class SettingsError(RuntimeError):
    """The environment does not describe a service that can start."""


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    environment: Environment
    database_url: str
    secret_key: str = dataclasses.field(repr=False)
    signing_keys: tuple[SigningKey, ...] = dataclasses.field(repr=False)
    base_url: str
    instance_path: Path
    max_body_bytes: int = 16 * 1024
    log_level: str = "INFO"
    # Region resolution (ARCHITECTURE §5). No CDN header is trusted unless configured: a header
    # from the open internet must not choose the law that applies.
    region_headers: tuple[RegionHeader, ...] = ()
    geoip_database: Path | None = None
    trusted_proxy_hops: int = 0
    # How stale a process's view of a property's banner may get after a publication.
    banner_cache_seconds: int = 2

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def flask_config(self) -> dict[str, object]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            # A server connection can die while pooled; a file cannot.
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": not self.database_url.startswith("sqlite")
            },
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: the process environment)."""
        env = dict(os.environ if environ is None else environ)
        environment = _parse_environment(env.get("CONSENT_ENV", "development"))
        instance_path = Path(env.get("CONSENT_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
        if environment is Environment.PRODUCTION:
            required = [
                "CONSENT_DATABASE_URL",
                "CONSENT_SECRET_KEY",
                "CONSENT_SIGNING_KEYS",
                "CONSENT_BASE_URL",
            ]
            missing = [name for name in required if not env.get(name)]
            if missing:
                raise SettingsError(
                    "production mode refuses to start without: " + ", ".join(missing)
                )
            secret_key = env["CONSENT_SECRET_KEY"]
            signing_spec = env["CONSENT_SIGNING_KEYS"]
        else:
            dev = _dev_secrets(instance_path, env)
            secret_key = env.get("CONSENT_SECRET_KEY") or dev["secret_key"]
            signing_spec = env.get("CONSENT_SIGNING_KEYS") or dev["signing_keys"]
        if environment is Environment.PRODUCTION and len(secret_key) < 32:
            raise SettingsError("CONSENT_SECRET_KEY must be at least 32 characters")
        try:
            signing_keys = parse_signing_keys(signing_spec)
        except ValueError as exc:
            raise SettingsError(f"CONSENT_SIGNING_KEYS: {exc}") from None
        region_headers = _region_headers(env)
        geoip_database = _geoip_database(env, environment)
        if environment is Environment.PRODUCTION and not region_headers and not geoip_database:
            log.warning(
                "no CONSENT_REGION_HEADERS and no CONSENT_GEOIP_DATABASE: every visitor's "
                "region is unknown and gets the strictest rule"
            )
        return cls(
            environment=environment,
            database_url=env.get("CONSENT_DATABASE_URL")
            or f"sqlite:///{instance_path / 'consent.db'}",
            secret_key=secret_key,
            signing_keys=signing_keys,
            base_url=(env.get("CONSENT_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            instance_path=instance_path,
            max_body_bytes=_positive_int(env, "CONSENT_MAX_BODY_BYTES", 16 * 1024),
            log_level=env.get("CONSENT_LOG_LEVEL", "INFO").upper(),
            region_headers=region_headers,
            geoip_database=geoip_database,
            trusted_proxy_hops=_non_negative_int(env, "CONSENT_TRUSTED_PROXY_HOPS", 0),
            banner_cache_seconds=_non_negative_int(env, "CONSENT_BANNER_CACHE_SECONDS", 2),
        )


def _parse_environment(value: str) -> Environment:
    try:
        return Environment(value.strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in Environment)
        raise SettingsError(f"CONSENT_ENV must be one of: {allowed}; got {value!r}") from None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer; got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive; got {value}")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer; got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must be 0 or more; got {value}")
    return value


def _region_headers(env: Mapping[str, str]) -> tuple[RegionHeader, ...]:
    raw = env.get("CONSENT_REGION_HEADERS", "")
    if not raw.strip():
        return ()
    try:
        return parse_region_headers(raw)
    except ValueError as exc:
        raise SettingsError(f"CONSENT_REGION_HEADERS: {exc}") from None


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


def _dev_secrets(instance_path: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Load (or create once) development secrets kept in the instance folder.

    Only the secrets the environment does not provide are generated, and the file is
    readable by its owner only. These secrets never leave the machine they were made on.
    """
    if env.get("CONSENT_SECRET_KEY") and env.get("CONSENT_SIGNING_KEYS"):
        return {}
    path = instance_path / DEV_SECRETS_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return stored
    instance_path.mkdir(parents=True, exist_ok=True)
    values = {
        "secret_key": secrets.token_urlsafe(48),
        "signing_keys": generate_signing_key().spec(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    log.warning(
        "DEVELOPMENT MODE: generated secrets into %s. Never use them in production; "
        "set CONSENT_ENV=production with CONSENT_SECRET_KEY and CONSENT_SIGNING_KEYS.",
        path,
    )
    return values
