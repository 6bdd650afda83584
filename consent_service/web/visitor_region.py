"""Where the current request comes from, as the configured resolver sees it."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.datastructures import EnvironHeaders

from consent_service.banner.preview import preview_region
from consent_service.extensions import region_resolver
from consent_service.extensions import settings
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.jurisdictions.regions import ResolvedRegion
from consent_service.scanning.token import scan_region
from consent_service.settings import Settings


def visitor_region(*, preview_tokens: bool = False) -> ResolvedRegion:
    """Trusted CDN header, then GeoIP, then unknown; ``?region=`` only outside production
    (development and previews), never on a production visitor's say-so. With
    ``preview_tokens``, a ``?region=`` that is a fresh token the admin's preview signed
    overrides in every environment (``banner_preview.py``). So does a token a compliance scan
    signed (``scanning/token.py``), on every endpoint the widget calls: source ``scan``."""
    # Looked up once, and without a KeyError: werkzeug's get() raises and catches one for a
    # missing name, on the banner's hot path most visitors take.
    args = request.args
    override = args["region"] if "region" in args else None  # noqa: SIM401 (see above)
    scanning, scanned = scan_region(settings().secret_key, override)
    if scanning:
        return ResolvedRegion(scanned, "scan")
    if preview_tokens and (region := preview_region(settings().secret_key, override)):
        return ResolvedRegion(region, "override")
    return resolved_region(request.environ, region_resolver(), settings(), override)


def resolved_region(
    environ: dict[str, Any], resolver: RegionResolver, settings: Settings, override: str | None
) -> ResolvedRegion:
    """The region of the request ``environ`` describes, from what it was sent with; a
    ``?region=`` ``override`` only outside production. Read from the WSGI environ, so whatever
    answers the request (a view, or ``api.banner_shortcut`` before Flask) gets the same."""
    headers = EnvironHeaders(environ)
    return resolver.resolve(
        headers,
        environ.get("REMOTE_ADDR"),
        headers.getlist("X-Forwarded-For") if resolver.uses_geoip else None,
        override=override,
        allow_override=not settings.is_production,
    )


def visitor_ip() -> str | None:
    """The client's address behind the configured number of trusted proxies."""
    resolver = region_resolver()
    return resolver.client_ip(request.remote_addr, request.headers.getlist("X-Forwarded-For"))
